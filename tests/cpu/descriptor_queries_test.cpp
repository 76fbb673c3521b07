// lar, lsl, verr, verw, arpl (SDM Vol. 2): ZF answers, values, privilege and type rules.
#include "cpu_fixture.h"

namespace cpu::testing {
namespace {

constexpr unsigned kSlot = 8;
constexpr uint16_t kSlotSel = kSlot * 8;

struct Lar {
  bool valid;
  uint32_t value;
};

class Queries : public CpuTest {
 protected:
  Lar lar(uint16_t sel, bool lsl = false) {
    Lar r{false, 0xdeadbeef};
    EXPECT_TRUE(NoFault(cpu.lar_lsl(sel, lsl, r.valid, r.value)));
    return r;
  }
  bool verr(uint16_t sel) { return ver(sel, false); }
  bool verw(uint16_t sel) { return ver(sel, true); }
  bool ver(uint16_t sel, bool write) {
    bool valid = true;
    EXPECT_TRUE(NoFault(cpu.verr_verw(sel, write, valid)));
    return valid;
  }
};

TEST_F(Queries, NullSelectorsAreInvalidForEveryQuery) {
  for (uint16_t sel : {0, 1, 2, 3}) {
    EXPECT_FALSE(lar(sel).valid);
    EXPECT_FALSE(lar(sel, true).valid);
    EXPECT_FALSE(verr(sel));
    EXPECT_FALSE(verw(sel));
  }
}

TEST_F(Queries, LarReturnsTheAccessRightsMasked) {
  // Flat DPL 0 code: access byte 0x9b, flags G|D, limit 19:16 = f.
  Lar r = lar(kKernelCode);
  EXPECT_TRUE(r.valid);
  EXPECT_EQ(r.value, 0x00cf9b00u);
  r = lar(kUserData);
  EXPECT_TRUE(r.valid);
  EXPECT_EQ(r.value, 0x00cff300u);
}

TEST_F(Queries, LslScalesTheLimitByGranularity) {
  EXPECT_EQ(lar(kKernelData, true).value, 0xffffffffu);
  set_gdt(kSlot, seg_desc(0x1000, 0x12345, access(kTypeDataRW, 0), 0x4));  // byte granular
  Lar r = lar(kSlotSel, true);
  EXPECT_TRUE(r.valid);
  EXPECT_EQ(r.value, 0x12345u);
  set_gdt(kSlot, seg_desc(0x1000, 0x00012, access(kTypeDataRW, 0), 0xc));  // 4 KiB granular
  EXPECT_EQ(lar(kSlotSel, true).value, 0x12fffu);
}

TEST_F(Queries, BeyondTheLimitOrWithoutAnLdtIsInvalidNotAFault) {
  v.gdtr.limit = kSlot * 8 - 1;
  set_gdt(kSlot, data32(0));
  EXPECT_FALSE(lar(kSlotSel).valid);
  EXPECT_FALSE(verr(kSlotSel));
  EXPECT_FALSE(lar(0x4 | 0x3).valid);  // LDT selector, no LDT loaded
  ASSERT_TRUE(NoFault(cpu.lldt(kLdtSel)));
  set_ldt(1, data32(3));
  EXPECT_TRUE(lar(0x0c | 3).valid);
  EXPECT_TRUE(verw(0x0c | 3));
  EXPECT_FALSE(lar(4 * 8 + 4).valid);  // beyond the LDT's 4 descriptors
}

TEST_F(Queries, PrivilegeIsMaxOfCplAndRplAgainstDpl) {
  EXPECT_TRUE(lar(kKernelData).valid);
  EXPECT_FALSE(lar(kKernelData | 3).valid);  // RPL 3 > DPL 0
  EXPECT_FALSE(verr(kKernelData | 1));
  EXPECT_TRUE(verw(kUserData));
  enter_ring(3);
  EXPECT_FALSE(lar(kKernelData).valid);  // CPL 3 > DPL 0
  EXPECT_FALSE(lar(kKernelCode, true).valid);
  EXPECT_FALSE(verw(kKernelData));
  EXPECT_FALSE(lar(kTssSel).valid);  // DPL 0 system descriptors too
  EXPECT_TRUE(lar(kUserCode).valid);
  EXPECT_TRUE(verr(kUserCode));
}

TEST_F(Queries, ConformingCodeSkipsThePrivilegeCheck) {
  set_gdt(kSlot, code32(0, kTypeCodeConfXR));
  enter_ring(3);
  EXPECT_TRUE(lar(kSlotSel | 3).valid);
  EXPECT_TRUE(lar(kSlotSel | 3, true).valid);
  EXPECT_TRUE(verr(kSlotSel | 3));
  EXPECT_FALSE(verw(kSlotSel | 3));  // code is never writable
  set_gdt(kSlot, code32(0, 0xc));    // conforming, execute-only
  EXPECT_FALSE(verr(kSlotSel | 3));
}

TEST_F(Queries, VerrAndVerwFollowTheSegmentType) {
  set_gdt(kSlot, data32(0, kTypeDataRO));
  EXPECT_TRUE(verr(kSlotSel));
  EXPECT_FALSE(verw(kSlotSel));
  set_gdt(kSlot, code32(0, kTypeCodeX));
  EXPECT_FALSE(verr(kSlotSel));
  EXPECT_FALSE(verw(kSlotSel));
  EXPECT_TRUE(verr(kKernelCode));  // readable code
  EXPECT_TRUE(verw(kKernelData));
  EXPECT_FALSE(verr(kTssSel));  // system descriptors never
  EXPECT_FALSE(verw(kLdtSel));
}

TEST_F(Queries, NotPresentSegmentsAreStillAnswered) {
  set_gdt(kSlot, flat(kTypeDataRW, 0, /*present=*/false));
  EXPECT_TRUE(lar(kSlotSel).valid);
  EXPECT_EQ(lar(kSlotSel).value, 0x00cf1200u);
  EXPECT_TRUE(verw(kSlotSel));
}

TEST_F(Queries, SystemTypesValidForLarAndLsl) {
  // type: lar valid, lsl valid
  const struct {
    uint8_t type;
    bool lar, lsl;
  } kTypes[] = {{0x0, false, false}, {0x1, true, true},   {0x2, true, true},   {0x3, true, true},
                {0x4, true, false},  {0x5, true, false},  {0x6, false, false}, {0x7, false, false},
                {0x8, false, false}, {0x9, true, true},   {0xa, false, false}, {0xb, true, true},
                {0xc, true, false},  {0xd, false, false}, {0xe, false, false}, {0xf, false, false}};
  for (const auto& t : kTypes) {
    set_gdt(kSlot, system_desc(0x5000, 0x67, t.type));
    SCOPED_TRACE(int(t.type));
    EXPECT_EQ(lar(kSlotSel).valid, t.lar);
    Lar l = lar(kSlotSel, true);
    EXPECT_EQ(l.valid, t.lsl);
    if (t.lsl) {
      EXPECT_EQ(l.value, 0x67u);
    }
    EXPECT_FALSE(verr(kSlotSel));
  }
}

TEST_F(Queries, ADescriptorTableReadFaultIsRaised) {
  mem.add_hole(kGdt + kSlot * 8, kGdt + kSlot * 8 + 8);
  bool valid = true;
  uint32_t value = 0;
  auto f = cpu.lar_lsl(kSlotSel, false, valid, value);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->vector, kPF);
  EXPECT_TRUE(cpu.verr_verw(kSlotSel, true, valid).has_value());
}

TEST_F(Queries, NothingIsWritten) {
  set_gdt(kSlot, data32(0, kTypeDataRW));  // accessed bit clear
  lar(kSlotSel);
  verw(kSlotSel);
  EXPECT_TRUE(mem.writes().empty());
}

TEST(Arpl, RaisesTheRplOnlyWhenLower) {
  uint16_t dest = 0x1238;
  EXPECT_TRUE(Cpu::arpl(dest, 0x0003));
  EXPECT_EQ(dest, 0x123b);
  EXPECT_FALSE(Cpu::arpl(dest, 0x0002));
  EXPECT_EQ(dest, 0x123b);
  EXPECT_FALSE(Cpu::arpl(dest, 0xffff));  // equal RPL: unchanged, ZF = 0
  EXPECT_EQ(dest, 0x123b);
}

}  // namespace
}  // namespace cpu::testing
