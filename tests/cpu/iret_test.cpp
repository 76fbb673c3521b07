// IRET in protected mode: same privilege and return to an outer ring (SDM Vol. 2 IRET).
#include <initializer_list>

#include "cpu_fixture.h"

namespace cpu::testing {
namespace {

constexpr unsigned kSlot = 8;  // a free GDT slot
constexpr uint16_t kSlotSel = kSlot * 8;

class Iret : public CpuTest {
 protected:
  // Pushes the dwords so that the first one ends up at ESP.
  void push_frame(std::initializer_list<uint32_t> dwords) {
    v.gpr[ESP] -= uint32_t(4 * dwords.size());
    uint32_t at = v.gpr[ESP];
    for (uint32_t d : dwords) {
      mem.put32(at, d);
      at += 4;
    }
  }
};

TEST_F(Iret, SameRingPopsEipCsEflags) {
  push_frame({0x5555, kKernelCode, fl::FIXED1 | fl::IF | fl::CF | fl::OF});
  ASSERT_TRUE(NoFault(cpu.iret()));
  EXPECT_EQ(v.eip, 0x5555u);
  EXPECT_EQ(v.seg[CS].sel, kKernelCode);
  EXPECT_EQ(v.cpl, 0);
  EXPECT_EQ(v.gpr[ESP], kKernelStackTop);
  EXPECT_EQ(v.read_eflags(), fl::FIXED1 | fl::IF | fl::CF | fl::OF);
  EXPECT_TRUE(v.if_flag);
  EXPECT_EQ(v.seg[SS].sel, kKernelData);
}

TEST_F(Iret, ToRing3LoadsSsEspAndCpl) {
  push_frame({0x4444, kUserCode, fl::FIXED1 | fl::IF, 0x7abc, kUserData});
  ASSERT_TRUE(NoFault(cpu.iret()));
  EXPECT_EQ(v.cpl, 3);
  EXPECT_EQ(v.eip, 0x4444u);
  EXPECT_EQ(v.seg[CS].sel, kUserCode);
  EXPECT_EQ(v.seg[CS].dpl(), 3);
  EXPECT_EQ(v.seg[SS].sel, kUserData);
  EXPECT_EQ(v.seg[SS].dpl(), 3);
  EXPECT_EQ(v.gpr[ESP], 0x7abcu);
  EXPECT_TRUE(v.if_flag);
  EXPECT_EQ(hooks.rings, std::vector<int>{3});  // the shadow MMU hears of it
}

TEST_F(Iret, ToRing3NullsDataSegmentsTheOuterRingMayNotUse) {
  set_gdt(kSlot, code32(0, kTypeCodeConfXR | kTypeAccessed));
  ASSERT_TRUE(NoFault(cpu.load_segment(FS, kUserData)));    // DPL 3 data: kept
  ASSERT_TRUE(NoFault(cpu.load_segment(GS, kSlotSel)));     // conforming code: kept
  ASSERT_TRUE(NoFault(cpu.load_segment(ES, kKernelCode)));  // DPL 0 readable code: nulled
  // DS stays kernel data (DPL 0): nulled
  push_frame({0x4444, kUserCode, fl::FIXED1, kUserStackTop, kUserData});
  ASSERT_TRUE(NoFault(cpu.iret()));
  EXPECT_EQ(v.seg[DS].sel, 0);
  EXPECT_FALSE(v.seg[DS].present());
  EXPECT_EQ(v.seg_base[DS], 0u);
  EXPECT_EQ(v.seg[ES].sel, 0);
  EXPECT_FALSE(v.seg[ES].present());
  EXPECT_EQ(v.seg[FS].sel, kUserData);
  EXPECT_TRUE(v.seg[FS].present());
  EXPECT_EQ(v.seg[GS].sel, kSlotSel);
  EXPECT_TRUE(v.seg[GS].present());
}

TEST_F(Iret, SameRingKeepsDataSegments) {
  push_frame({0x5555, kKernelCode, fl::FIXED1});
  ASSERT_TRUE(NoFault(cpu.iret()));
  EXPECT_EQ(v.seg[DS].sel, kKernelData);
}

TEST_F(Iret, ToInnerRingIsGp) {
  enter_ring(3);
  push_frame({0x5555, kKernelCode, fl::FIXED1});
  EXPECT_TRUE(Faulted(cpu.iret(), kGP, kKernelCode));
  EXPECT_EQ(v.cpl, 3);
  EXPECT_EQ(v.gpr[ESP], kUserStackTop - 12) << "a faulting iret pops nothing";
}

TEST_F(Iret, NullCodeSelectorIsGp0) {
  push_frame({0x5555, 0, fl::FIXED1});
  EXPECT_TRUE(Faulted(cpu.iret(), kGP, 0));
}

TEST_F(Iret, NonCodeSegmentIsGp) {
  push_frame({0x5555, kKernelData, fl::FIXED1});
  EXPECT_TRUE(Faulted(cpu.iret(), kGP, kKernelData));
  EXPECT_EQ(v.seg[CS].sel, kKernelCode);
}

TEST_F(Iret, NonConformingCodeWithDplOtherThanRplIsGp) {
  push_frame({0x4444, kUserCode & ~3, fl::FIXED1});  // DPL 3 code, RPL 0
  EXPECT_TRUE(Faulted(cpu.iret(), kGP, kUserCode & ~3u));
}

TEST_F(Iret, NotPresentCodeSegmentIsNp) {
  set_gdt(kSlot, flat(kTypeCodeXR | kTypeAccessed, 0, /*present=*/false));
  push_frame({0x5555, kSlotSel, fl::FIXED1});
  EXPECT_TRUE(Faulted(cpu.iret(), kNP, kSlotSel));
}

TEST_F(Iret, OuterStackSelectorMustMatchTheNewCpl) {
  // SS with RPL 0 for a return to ring 3.
  push_frame({0x4444, kUserCode, fl::FIXED1, kUserStackTop, kUserData & ~3});
  EXPECT_TRUE(Faulted(cpu.iret(), kGP, kUserData & ~3u));
  EXPECT_EQ(v.cpl, 0);
  EXPECT_EQ(v.seg[SS].sel, kKernelData);
}

TEST_F(Iret, OuterStackWithDplOtherThanTheNewCplIsGp) {
  set_gdt(kSlot, data32(0));
  push_frame({0x4444, kUserCode, fl::FIXED1, kUserStackTop, kSlotSel | 3});
  EXPECT_TRUE(Faulted(cpu.iret(), kGP, kSlotSel));
}

TEST_F(Iret, NullOuterStackIsGp0) {
  push_frame({0x4444, kUserCode, fl::FIXED1, kUserStackTop, 3});
  EXPECT_TRUE(Faulted(cpu.iret(), kGP, 0));
}

TEST_F(Iret, NotPresentOuterStackIsSs) {
  set_gdt(kSlot, flat(kTypeDataRW | kTypeAccessed, 3, /*present=*/false));
  push_frame({0x4444, kUserCode, fl::FIXED1, kUserStackTop, kSlotSel | 3});
  EXPECT_TRUE(Faulted(cpu.iret(), kSS, kSlotSel));
}

TEST_F(Iret, EipBeyondTheCodeLimitIsGp0) {
  set_gdt(kSlot, seg_desc(0, 0xfff, access(kTypeCodeXR | kTypeAccessed, 0), 0x4));
  push_frame({0x1000, kSlotSel, fl::FIXED1 | fl::IF});
  EXPECT_TRUE(Faulted(cpu.iret(), kGP, 0));
  EXPECT_EQ(v.seg[CS].sel, kKernelCode);
  EXPECT_EQ(v.gpr[ESP], kKernelStackTop - 12);
  EXPECT_FALSE(v.if_flag);
  mem.put32(v.gpr[ESP], 0xfff);
  EXPECT_TRUE(NoFault(cpu.iret()));
  EXPECT_EQ(v.eip, 0xfffu);
}

TEST_F(Iret, UnreadableFrameIsPageFault) {
  v.gpr[ESP] = FakeMemory::kSize - 8;  // EIP and CS readable, EFLAGS not
  auto f = cpu.iret();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, kPF);
  EXPECT_EQ(v.gpr[ESP], FakeMemory::kSize - 8);
}

TEST_F(Iret, WithNtIsATaskReturnAndUnsupported) {
  v.write_eflags(fl::FIXED1 | fl::NT);
  push_frame({0x5555, kKernelCode, fl::FIXED1});
  EXPECT_THROW(cpu.iret(), Unsupported);
}

// ---- which EFLAGS bits iret may change (checked at the CPL iret runs at) ----

TEST_F(Iret, AtCpl0RestoresIoplAndIf) {
  push_frame({0x5555, kKernelCode, fl::FIXED1 | fl::IF | (3u << 12) | fl::ZF});
  ASSERT_TRUE(NoFault(cpu.iret()));
  EXPECT_EQ(v.read_eflags(), fl::FIXED1 | fl::IF | (3u << 12) | fl::ZF);
}

TEST_F(Iret, AtCpl3WithIopl0KeepsIfAndIopl) {
  enter_ring(3);
  v.write_eflags(fl::FIXED1 | fl::IF);
  push_frame({0x4444, kUserCode, fl::FIXED1 | (3u << 12) | fl::CF});  // IF clear, IOPL 3
  ASSERT_TRUE(NoFault(cpu.iret()));
  EXPECT_EQ(v.read_eflags(), fl::FIXED1 | fl::IF | fl::CF);
}

TEST_F(Iret, AtCpl3WithIopl3RestoresIfButNotIopl) {
  enter_ring(3);
  v.write_eflags(fl::FIXED1 | fl::IF | (3u << 12));
  push_frame({0x4444, kUserCode, fl::FIXED1 | fl::CF});  // IF clear, IOPL 0
  ASSERT_TRUE(NoFault(cpu.iret()));
  EXPECT_EQ(v.read_eflags(), fl::FIXED1 | (3u << 12) | fl::CF);
  EXPECT_FALSE(v.if_flag);
}

TEST_F(Iret, ToRing3UsesTheRing0RulesForIopl) {
  push_frame({0x4444, kUserCode, fl::FIXED1 | fl::IF | (3u << 12), kUserStackTop, kUserData});
  ASSERT_TRUE(NoFault(cpu.iret()));
  EXPECT_EQ(v.cpl, 3);
  EXPECT_EQ(v.read_eflags(), fl::FIXED1 | fl::IF | (3u << 12));
}

TEST_F(Iret, RoundTripFromRing3InterruptRestoresEverything) {
  enter_ring(3);
  v.gpr[ESP] = 0x7ff0;
  v.eip = 0x4444;
  v.write_eflags(fl::FIXED1 | fl::IF | fl::SF);
  set_gate(0x80, gate(kKernelCode, handler(0x80), kTypeIntGate, 3));
  cpu.software_interrupt(0x80, 0x4446, true);
  ASSERT_EQ(v.cpl, 0);
  ASSERT_TRUE(NoFault(cpu.iret()));
  EXPECT_EQ(v.cpl, 3);
  EXPECT_EQ(v.eip, 0x4446u);
  EXPECT_EQ(v.gpr[ESP], 0x7ff0u);
  EXPECT_EQ(v.seg[CS].sel, kUserCode);
  EXPECT_EQ(v.seg[SS].sel, kUserData);
  EXPECT_EQ(v.seg[DS].sel, kUserData);
  EXPECT_EQ(v.read_eflags(), fl::FIXED1 | fl::IF | fl::SF);
}

}  // namespace
}  // namespace cpu::testing
