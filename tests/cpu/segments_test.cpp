// Segment-register loads, LTR and LLDT (SDM Vol. 2 MOV/POP Sreg, LTR, LLDT; Vol. 3 §5.5-5.8).
#include "cpu_fixture.h"

namespace cpu::testing {
namespace {

using SegmentLoad = CpuTest;

// Free GDT slots the tests below fill.
constexpr unsigned kSlot = 8;
constexpr uint16_t kSlotSel = kSlot * 8;

TEST_F(SegmentLoad, NullSelectorInDataRegisterIsAllowedAndUnusable) {
  ASSERT_TRUE(NoFault(cpu.load_segment(DS, 0)));
  EXPECT_EQ(v.seg[DS].sel, 0);
  EXPECT_FALSE(v.seg[DS].present());
  EXPECT_EQ(v.seg_base[DS], 0u);
  // Any RPL: selectors 0-3 are all null.
  enter_ring(3);
  ASSERT_TRUE(NoFault(cpu.load_segment(ES, 3)));
  EXPECT_EQ(v.seg[ES].sel, 3);
  EXPECT_FALSE(v.seg[ES].present());
}

TEST_F(SegmentLoad, NullSelectorInSsIsGp0AndLeavesSsAlone) {
  EXPECT_TRUE(Faulted(cpu.load_segment(SS, 0), kGP, 0));
  EXPECT_TRUE(Faulted(cpu.load_segment(SS, 3), kGP, 0));
  EXPECT_EQ(v.seg[SS].sel, kKernelData);
  EXPECT_TRUE(v.seg[SS].present());
}

TEST_F(SegmentLoad, SelectorBeyondGdtLimitIsGpWithSelectorIndex) {
  set_gdt(kSlot, data32(0));
  v.gdtr.limit = kSlot * 8 - 1;  // the slot is just outside
  EXPECT_TRUE(Faulted(cpu.load_segment(DS, kSlotSel), kGP, kSlotSel));
  EXPECT_TRUE(Faulted(cpu.load_segment(DS, kSlotSel | 3), kGP, kSlotSel));  // RPL not reported
  EXPECT_TRUE(Faulted(cpu.load_segment(SS, kSlotSel), kGP, kSlotSel));
  EXPECT_EQ(v.seg[DS].sel, kKernelData);
  // The limit is the last valid byte: a descriptor whose last byte is at the limit is inside.
  v.gdtr.limit = kSlot * 8 + 7;
  EXPECT_TRUE(NoFault(cpu.load_segment(DS, kSlotSel)));
  v.gdtr.limit = kSlot * 8 + 6;
  EXPECT_TRUE(Faulted(cpu.load_segment(DS, kSlotSel), kGP, kSlotSel));
}

TEST_F(SegmentLoad, NotPresentDataSegmentIsNpForDataAndSsForStack) {
  set_gdt(kSlot, flat(kTypeDataRW, 0, /*present=*/false));
  EXPECT_TRUE(Faulted(cpu.load_segment(DS, kSlotSel), kNP, kSlotSel));
  EXPECT_TRUE(Faulted(cpu.load_segment(GS, kSlotSel), kNP, kSlotSel));
  EXPECT_TRUE(Faulted(cpu.load_segment(SS, kSlotSel), kSS, kSlotSel));
  EXPECT_EQ(v.seg[DS].sel, kKernelData);
  EXPECT_EQ(v.seg[SS].sel, kKernelData);
}

TEST_F(SegmentLoad, PrivilegeChecksComeBeforePresence) {
  // A not-present DPL 0 segment loaded at CPL 3 is a #GP, not a #NP.
  set_gdt(kSlot, flat(kTypeDataRW, 0, /*present=*/false));
  enter_ring(3);
  EXPECT_TRUE(Faulted(cpu.load_segment(DS, kSlotSel | 3), kGP, kSlotSel));
}

TEST_F(SegmentLoad, DataSegmentWithDplBelowCplIsGp) {
  enter_ring(3);
  EXPECT_TRUE(Faulted(cpu.load_segment(DS, kKernelData | 3), kGP, kKernelData));
  EXPECT_TRUE(Faulted(cpu.load_segment(DS, kKernelData), kGP, kKernelData));
  EXPECT_EQ(v.seg[DS].sel, kUserData);
  EXPECT_TRUE(NoFault(cpu.load_segment(DS, kUserData)));
  EXPECT_EQ(v.seg[DS].sel, kUserData);
}

TEST_F(SegmentLoad, DataSegmentWithDplBelowRplIsGp) {
  // CPL 0 but RPL 3: the effective privilege is 3, so DPL 0 data is refused.
  EXPECT_TRUE(Faulted(cpu.load_segment(DS, kKernelData | 3), kGP, kKernelData));
  // A DPL 3 segment may be loaded from any CPL and RPL.
  EXPECT_TRUE(NoFault(cpu.load_segment(DS, kUserData & ~3)));
  EXPECT_EQ(v.seg[DS].sel, kUserData & ~3);
  EXPECT_EQ(v.seg[DS].dpl(), 3);
  // DPL 1 data from CPL 0: RPL 1 ok, RPL 2 not.
  set_gdt(kSlot, data32(1));
  EXPECT_TRUE(NoFault(cpu.load_segment(FS, kSlotSel | 1)));
  EXPECT_TRUE(Faulted(cpu.load_segment(FS, kSlotSel | 2), kGP, kSlotSel));
}

TEST_F(SegmentLoad, StackSegmentMustMatchCplWithRplAndDpl) {
  // RPL != CPL
  EXPECT_TRUE(Faulted(cpu.load_segment(SS, kKernelData | 3), kGP, kKernelData));
  // DPL != CPL (DPL 3 data at CPL 0, RPL 0)
  EXPECT_TRUE(Faulted(cpu.load_segment(SS, kUserData & ~3), kGP, kUserData & ~3));
  EXPECT_EQ(v.seg[SS].sel, kKernelData);
  enter_ring(3);
  EXPECT_TRUE(Faulted(cpu.load_segment(SS, kKernelData | 3), kGP, kKernelData));
  EXPECT_TRUE(Faulted(cpu.load_segment(SS, kUserData & ~3), kGP, kUserData & ~3));
  v.irq_shadow = false;
  EXPECT_TRUE(NoFault(cpu.load_segment(SS, kUserData)));
  EXPECT_EQ(v.seg[SS].sel, kUserData);
  EXPECT_TRUE(v.irq_shadow) << "mov ss inhibits interrupts for one instruction";
}

TEST_F(SegmentLoad, StackSegmentMustBeWritableData) {
  set_gdt(kSlot, data32(0, kTypeDataRO | kTypeAccessed));
  EXPECT_TRUE(Faulted(cpu.load_segment(SS, kSlotSel), kGP, kSlotSel));
  EXPECT_TRUE(Faulted(cpu.load_segment(SS, kKernelCode), kGP, kKernelCode));
  EXPECT_TRUE(Faulted(cpu.load_segment(SS, kTssSel), kGP, kTssSel));
  // The read-only segment is fine for DS.
  EXPECT_TRUE(NoFault(cpu.load_segment(DS, kSlotSel)));
}

TEST_F(SegmentLoad, ReadableCodeMayBeLoadedIntoDsButExecuteOnlyMayNot) {
  EXPECT_TRUE(NoFault(cpu.load_segment(DS, kKernelCode)));
  EXPECT_EQ(v.seg[DS].sel, kKernelCode);
  EXPECT_TRUE(v.seg[DS].is_code());
  set_gdt(kSlot, code32(0, kTypeCodeX | kTypeAccessed));
  EXPECT_TRUE(Faulted(cpu.load_segment(ES, kSlotSel), kGP, kSlotSel));
  EXPECT_EQ(v.seg[ES].sel, kKernelData);
}

TEST_F(SegmentLoad, NonConformingCodeFollowsDataPrivilegeRules) {
  enter_ring(3);
  EXPECT_TRUE(Faulted(cpu.load_segment(DS, kKernelCode | 3), kGP, kKernelCode));
}

TEST_F(SegmentLoad, ReadableConformingCodeIgnoresPrivilege) {
  set_gdt(kSlot, code32(0, kTypeCodeConfXR | kTypeAccessed));
  enter_ring(3);
  EXPECT_TRUE(NoFault(cpu.load_segment(DS, kSlotSel | 3)));
  EXPECT_EQ(v.seg[DS].sel, kSlotSel | 3);
  // ... but not into SS.
  EXPECT_TRUE(Faulted(cpu.load_segment(SS, kSlotSel | 3), kGP, kSlotSel));
}

TEST_F(SegmentLoad, SystemDescriptorIntoDataRegisterIsGp) {
  EXPECT_TRUE(Faulted(cpu.load_segment(DS, kTssSel), kGP, kTssSel));
  EXPECT_TRUE(Faulted(cpu.load_segment(FS, kLdtSel), kGP, kLdtSel));
}

TEST_F(SegmentLoad, LoadSetsAccessedBitInDescriptorAndCache) {
  // Not accessed; base 0x00123456, byte-granular limit 0x4321.
  set_gdt(kSlot, seg_desc(0x00123456, 0x4321, access(kTypeDataRW, 0), 0x4));
  ASSERT_TRUE(NoFault(cpu.load_segment(DS, kSlotSel)));
  EXPECT_EQ(gdt(kSlot), seg_desc(0x00123456, 0x4321, access(kTypeDataRW | kTypeAccessed, 0), 0x4));
  EXPECT_EQ(v.seg[DS].type(), kTypeDataRW | kTypeAccessed);
  EXPECT_EQ(v.seg[DS].base, 0x00123456u);
  EXPECT_EQ(v.seg_base[DS], 0x00123456u) << "the translated-code copy of the base";
  EXPECT_EQ(v.seg[DS].limit, 0x4321u);
  EXPECT_TRUE(v.seg[DS].db());
  EXPECT_FALSE(v.seg[DS].gran());
}

TEST_F(SegmentLoad, DescriptorFieldsDecodeWithGranularity) {
  set_gdt(kSlot, seg_desc(0xfe123456, 0x000ab, access(kTypeDataRW, 0), 0xc));
  ASSERT_TRUE(NoFault(cpu.load_segment(ES, kSlotSel)));
  EXPECT_EQ(v.seg[ES].base, 0xfe123456u);
  EXPECT_EQ(v.seg[ES].limit, 0x000abfffu);
  EXPECT_TRUE(v.seg[ES].gran());
}

TEST_F(SegmentLoad, LdtSelectorWithoutLdtIsGp) {
  // SetUp leaves LDTR null.
  EXPECT_TRUE(Faulted(cpu.load_segment(DS, 0x0c), kGP, 0x0c));
  EXPECT_TRUE(Faulted(cpu.load_segment(DS, 0x0f), kGP, 0x0c));
}

TEST_F(SegmentLoad, LdtSelectorReadsTheLoadedLdt) {
  set_ldt(1, seg_desc(0x00400000, 0xfff, access(kTypeDataRW, 3), 0x4));  // not accessed
  ASSERT_TRUE(NoFault(cpu.lldt(kLdtSel)));
  enter_ring(3);
  ASSERT_TRUE(NoFault(cpu.load_segment(DS, 0x0f)));
  EXPECT_EQ(v.seg[DS].sel, 0x0f);
  EXPECT_EQ(v.seg[DS].base, 0x00400000u);
  EXPECT_EQ(v.seg[DS].limit, 0xfffu);
  // The accessed bit is set in the LDT, not in the GDT slot with the same index.
  EXPECT_EQ(mem.get8(kLdt + 8 + 5), access(kTypeDataRW | kTypeAccessed, 3));
  EXPECT_EQ(gdt(1), code32(0));
  // Beyond the LDT limit (4 descriptors).
  EXPECT_TRUE(Faulted(cpu.load_segment(DS, 4 * 8 + 4 + 3), kGP, 4 * 8 + 4));
}

TEST_F(SegmentLoad, DescriptorReadFaultIsReported) {
  // The descriptor table itself is not mapped: the #PF comes through unchanged.
  mem.add_hole(kGdt + kSlot * 8, kGdt + kSlot * 8 + 8);
  auto f = cpu.load_segment(DS, kSlotSel);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, kPF);
  EXPECT_EQ(f->cr2, kGdt + kSlot * 8);
  EXPECT_EQ(v.seg[DS].sel, kKernelData);
}

// ---- LTR ----

using Ltr = CpuTest;

TEST_F(Ltr, LoadsTrAndMarksTheTssBusy) {
  set_gdt(kSlot, system_desc(0x5000, 0x67, kTypeTss32));
  ASSERT_TRUE(NoFault(cpu.ltr(kSlotSel)));
  EXPECT_EQ(gdt(kSlot), system_desc(0x5000, 0x67, kTypeTss32Busy));
  EXPECT_EQ(v.tr.sel, kSlotSel);
  EXPECT_EQ(v.tr.base, 0x5000u);
  EXPECT_EQ(v.tr.limit, 0x67u);
  EXPECT_EQ(v.tr.type(), kTypeTss32Busy);
}

TEST_F(Ltr, BusyTssIsGp) {
  set_gdt(kSlot, system_desc(0x5000, 0x67, kTypeTss32Busy));
  EXPECT_TRUE(Faulted(cpu.ltr(kSlotSel), kGP, kSlotSel));
  EXPECT_EQ(v.tr.sel, kTssSel);
}

TEST_F(Ltr, NonTssDescriptorIsGp) {
  EXPECT_TRUE(Faulted(cpu.ltr(kKernelData), kGP, kKernelData));
  EXPECT_TRUE(Faulted(cpu.ltr(kLdtSel), kGP, kLdtSel));
  set_gdt(kSlot, system_desc(0x5000, 0x67, kTypeIntGate));
  EXPECT_TRUE(Faulted(cpu.ltr(kSlotSel), kGP, kSlotSel));
  EXPECT_EQ(v.tr.sel, kTssSel);
}

TEST_F(Ltr, NullOrLdtSelectorIsGp) {
  EXPECT_TRUE(Faulted(cpu.ltr(0), kGP, 0));
  set_ldt(1, system_desc(0x5000, 0x67, kTypeTss32));
  v.ldtr = Cpu::segment_from_descriptor(kLdtSel, gdt(kLdtSel >> 3));
  EXPECT_TRUE(Faulted(cpu.ltr(0x0c), kGP, 0x0c));
}

TEST_F(Ltr, NotPresentTssIsNp) {
  set_gdt(kSlot, system_desc(0x5000, 0x67, kTypeTss32, /*present=*/false));
  EXPECT_TRUE(Faulted(cpu.ltr(kSlotSel), kNP, kSlotSel));
  EXPECT_EQ(gdt(kSlot), system_desc(0x5000, 0x67, kTypeTss32, false)) << "not marked busy";
}

TEST_F(Ltr, BeyondGdtLimitIsGp) {
  set_gdt(kSlot, system_desc(0x5000, 0x67, kTypeTss32));
  v.gdtr.limit = kSlot * 8 - 1;
  EXPECT_TRUE(Faulted(cpu.ltr(kSlotSel), kGP, kSlotSel));
}

TEST_F(Ltr, IsPrivileged) {
  set_gdt(kSlot, system_desc(0x5000, 0x67, kTypeTss32));
  enter_ring(3);
  EXPECT_TRUE(Faulted(cpu.ltr(kSlotSel), kGP, 0));
  EXPECT_EQ(gdt(kSlot), system_desc(0x5000, 0x67, kTypeTss32));
}

// ---- LLDT ----

using Lldt = CpuTest;

TEST_F(Lldt, LoadsLdtr) {
  ASSERT_TRUE(NoFault(cpu.lldt(kLdtSel)));
  EXPECT_EQ(v.ldtr.sel, kLdtSel);
  EXPECT_EQ(v.ldtr.base, kLdt);
  EXPECT_EQ(v.ldtr.limit, kLdtLimit);
  EXPECT_TRUE(v.ldtr.present());
}

TEST_F(Lldt, NullSelectorInvalidatesTheLdt) {
  ASSERT_TRUE(NoFault(cpu.lldt(kLdtSel)));
  set_ldt(1, data32(0));
  ASSERT_TRUE(NoFault(cpu.load_segment(DS, 0x0c)));
  ASSERT_TRUE(NoFault(cpu.lldt(0)));
  EXPECT_TRUE(Faulted(cpu.load_segment(DS, 0x0c), kGP, 0x0c));
}

TEST_F(Lldt, WrongDescriptorTypeIsGp) {
  EXPECT_TRUE(Faulted(cpu.lldt(kTssSel), kGP, kTssSel));
  EXPECT_TRUE(Faulted(cpu.lldt(kKernelData), kGP, kKernelData));
  EXPECT_FALSE(v.ldtr.present());
}

TEST_F(Lldt, SelectorIntoLdtIsGp) {
  EXPECT_TRUE(Faulted(cpu.lldt(kLdtSel | 4), kGP, kLdtSel | 4));
}

TEST_F(Lldt, NotPresentLdtIsNp) {
  set_gdt(kSlot, system_desc(kLdt, kLdtLimit, kTypeLdt, /*present=*/false));
  EXPECT_TRUE(Faulted(cpu.lldt(kSlotSel), kNP, kSlotSel));
}

TEST_F(Lldt, IsPrivileged) {
  enter_ring(3);
  EXPECT_TRUE(Faulted(cpu.lldt(kLdtSel), kGP, 0));
  EXPECT_FALSE(v.ldtr.present());
}

}  // namespace
}  // namespace cpu::testing
