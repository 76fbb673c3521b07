// Far JMP / CALL / RET to code segments at the same privilege (SDM Vol. 2 JMP, CALL, RET).
#include "cpu_fixture.h"

namespace cpu::testing {
namespace {

using FarTransfer = CpuTest;

constexpr unsigned kSlot = 8;  // free GDT slots
constexpr uint16_t kSlotSel = kSlot * 8;
constexpr uint16_t kSlot2Sel = (kSlot + 1) * 8;

TEST_F(FarTransfer, JumpLoadsCsAndEip) {
  set_gdt(kSlot, code32(0, kTypeCodeXR));  // not yet accessed
  ASSERT_TRUE(NoFault(cpu.far_jump(kSlotSel, 0x123456)));
  EXPECT_EQ(v.seg[CS].sel, kSlotSel);
  EXPECT_EQ(v.eip, 0x123456u);
  EXPECT_EQ(v.cpl, 0);
  EXPECT_EQ(v.seg[CS].type(), kTypeCodeXR | kTypeAccessed);
  EXPECT_EQ(v.gpr[ESP], kKernelStackTop);
}

TEST_F(FarTransfer, JumpWithRplBelowCplRunsAtCpl) {
  set_gdt(kSlot, code32(3));
  enter_ring(3);
  ASSERT_TRUE(NoFault(cpu.far_jump(kSlotSel, 0x10)));  // RPL 0
  EXPECT_EQ(v.seg[CS].sel, kSlotSel | 3);
  EXPECT_EQ(v.cpl, 3);
}

TEST_F(FarTransfer, JumpToNonConformingCodeOfAnotherPrivilegeIsGp) {
  EXPECT_TRUE(Faulted(cpu.far_jump(kUserCode, 0x10), kGP, kUserCode & ~3u));       // RPL 3 > CPL 0
  EXPECT_TRUE(Faulted(cpu.far_jump(kUserCode & ~3, 0x10), kGP, kUserCode & ~3u));  // DPL 3
  enter_ring(3);
  EXPECT_TRUE(Faulted(cpu.far_jump(kKernelCode, 0x10), kGP, kKernelCode));
  EXPECT_EQ(v.seg[CS].sel, kUserCode);
  EXPECT_EQ(v.cpl, 3);
}

TEST_F(FarTransfer, JumpToConformingCodeKeepsCpl) {
  set_gdt(kSlot, code32(0, kTypeCodeConfXR | kTypeAccessed));
  enter_ring(3);
  ASSERT_TRUE(NoFault(cpu.far_jump(kSlotSel | 3, 0x10)));
  EXPECT_EQ(v.cpl, 3);
  EXPECT_EQ(v.seg[CS].sel, kSlotSel | 3);
  // A conforming segment less privileged than the CPL is refused.
  set_gdt(kSlot + 1, code32(3, kTypeCodeConfXR | kTypeAccessed));
  enter_ring(0);
  EXPECT_TRUE(Faulted(cpu.far_jump(kSlot2Sel, 0x10), kGP, kSlot2Sel));
}

TEST_F(FarTransfer, JumpToDataSegmentIsGp) {
  EXPECT_TRUE(Faulted(cpu.far_jump(kKernelData, 0x10), kGP, kKernelData));
  EXPECT_EQ(v.seg[CS].sel, kKernelCode);
}

TEST_F(FarTransfer, JumpToNullSelectorIsGp0) {
  EXPECT_TRUE(Faulted(cpu.far_jump(0, 0x10), kGP, 0));
}

TEST_F(FarTransfer, JumpToNotPresentCodeIsNp) {
  set_gdt(kSlot, flat(kTypeCodeXR | kTypeAccessed, 0, /*present=*/false));
  EXPECT_TRUE(Faulted(cpu.far_jump(kSlotSel, 0x10), kNP, kSlotSel));
}

TEST_F(FarTransfer, JumpBeyondTheCodeLimitIsGp0) {
  set_gdt(kSlot, seg_desc(0, 0xfff, access(kTypeCodeXR | kTypeAccessed, 0), 0x4));
  EXPECT_TRUE(NoFault(cpu.far_jump(kSlotSel, 0xfff)));
  EXPECT_TRUE(Faulted(cpu.far_jump(kSlotSel, 0x1000), kGP, 0));
  EXPECT_EQ(v.eip, 0xfffu);
}

TEST_F(FarTransfer, JumpChecksTheOffsetOnlyAfterTypePrivilegeAndPresence) {
  // SDM JMP: the EIP limit check (#GP(0)) comes after the descriptor checks.
  set_gdt(kSlot, seg_desc(0, 0xfff, access(kTypeCodeXR | kTypeAccessed, 0, true, false), 0x4));
  EXPECT_TRUE(Faulted(cpu.far_jump(kSlotSel, 0x1000), kNP, kSlotSel));
  set_gdt(kSlot, seg_desc(0, 0xfff, access(kTypeDataRW | kTypeAccessed, 0), 0x4));
  EXPECT_TRUE(Faulted(cpu.far_jump(kSlotSel, 0x1000), kGP, kSlotSel));
  set_gdt(kSlot, seg_desc(0, 0xfff, access(kTypeCodeXR | kTypeAccessed, 3), 0x4));
  EXPECT_TRUE(Faulted(cpu.far_jump(kSlotSel, 0x1000), kGP, kSlotSel));
  EXPECT_EQ(v.seg[CS].sel, kKernelCode);
  EXPECT_EQ(v.cpl, 0);
}

TEST_F(FarTransfer, JumpSelectorBeyondGdtLimitIsGp) {
  v.gdtr.limit = kSlot * 8 - 1;
  EXPECT_TRUE(Faulted(cpu.far_jump(kSlotSel, 0x10), kGP, kSlotSel));
}

TEST_F(FarTransfer, CallPushesCsAndReturnEip) {
  set_gdt(kSlot, code32(0));
  v.eip = 0x1000;
  ASSERT_TRUE(NoFault(cpu.far_call(kSlotSel, 0x2000, 0x1007)));
  EXPECT_EQ(v.seg[CS].sel, kSlotSel);
  EXPECT_EQ(v.eip, 0x2000u);
  ASSERT_EQ(v.gpr[ESP], kKernelStackTop - 8);
  EXPECT_EQ(stack(0), 0x1007u);
  EXPECT_EQ(stack(1) & 0xffff, kKernelCode);
}

TEST_F(FarTransfer, CallAtCpl3PushesWithUserAccesses) {
  set_gdt(kSlot, code32(3));
  enter_ring(3);
  mem.log.clear();
  ASSERT_TRUE(NoFault(cpu.far_call(kSlotSel | 3, 0x2000, 0x1007)));
  for (const auto& w : mem.writes()) {
    if (w.linear >= kUserStackTop - 8 && w.linear < kUserStackTop) {
      EXPECT_EQ(w.mode, Memory::Mode::User) << std::hex << w.linear;
    }
  }
  EXPECT_EQ(v.gpr[ESP], kUserStackTop - 8);
}

TEST_F(FarTransfer, FailedCallLeavesStateAlone) {
  set_gdt(kSlot, flat(kTypeCodeXR | kTypeAccessed, 0, /*present=*/false));
  EXPECT_TRUE(Faulted(cpu.far_call(kSlotSel, 0x2000, 0x1007), kNP, kSlotSel));
  EXPECT_EQ(v.gpr[ESP], kKernelStackTop);
  EXPECT_EQ(v.seg[CS].sel, kKernelCode);
  EXPECT_EQ(v.eip, 0x1000u);
}

TEST_F(FarTransfer, CallBeyondTheCodeLimitIsGp0AndPushesNothing) {
  set_gdt(kSlot, seg_desc(0, 0xfff, access(kTypeCodeXR | kTypeAccessed, 0), 0x4));
  EXPECT_TRUE(Faulted(cpu.far_call(kSlotSel, 0x1000, 0x1007), kGP, 0));
  EXPECT_EQ(v.gpr[ESP], kKernelStackTop);
  EXPECT_EQ(v.seg[CS].sel, kKernelCode);
  EXPECT_TRUE(mem.writes().empty());
}

TEST_F(FarTransfer, CallChecksTheTargetBeforePushing) {
  // SDM CALL: descriptor checks, then the EIP limit, then the pushes. A not-present target
  // is #NP even when the stack is not writable.
  set_gdt(kSlot, flat(kTypeCodeXR | kTypeAccessed, 0, /*present=*/false));
  mem.add_hole(kKernelStackTop - 0x1000, kKernelStackTop);
  EXPECT_TRUE(Faulted(cpu.far_call(kSlotSel, 0x2000, 0x1007), kNP, kSlotSel));
}

TEST_F(FarTransfer, CallWithUnwritableStackFaults) {
  set_gdt(kSlot, code32(0));
  mem.add_hole(kKernelStackTop - 0x1000, kKernelStackTop);
  auto f = cpu.far_call(kSlotSel, 0x2000, 0x1007);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, kPF);
  EXPECT_EQ(v.gpr[ESP], kKernelStackTop);
  EXPECT_EQ(v.seg[CS].sel, kKernelCode);
}

TEST_F(FarTransfer, ReturnPopsEipCsAndReleasesParameters) {
  set_gdt(kSlot, code32(0));
  v.gpr[ESP] -= 8;
  mem.put32(v.gpr[ESP], 0x3333);
  mem.put32(v.gpr[ESP] + 4, kSlotSel);
  ASSERT_TRUE(NoFault(cpu.far_return(12)));
  EXPECT_EQ(v.eip, 0x3333u);
  EXPECT_EQ(v.seg[CS].sel, kSlotSel);
  EXPECT_EQ(v.gpr[ESP], kKernelStackTop + 12);
}

TEST_F(FarTransfer, CallThenReturnRoundTrips) {
  set_gdt(kSlot, code32(0));
  ASSERT_TRUE(NoFault(cpu.far_call(kSlotSel, 0x2000, 0x1007)));
  ASSERT_TRUE(NoFault(cpu.far_return(0)));
  EXPECT_EQ(v.seg[CS].sel, kKernelCode);
  EXPECT_EQ(v.eip, 0x1007u);
  EXPECT_EQ(v.gpr[ESP], kKernelStackTop);
}

TEST_F(FarTransfer, ReturnBeyondTheCodeLimitIsGp0) {
  set_gdt(kSlot, seg_desc(0, 0xfff, access(kTypeCodeXR | kTypeAccessed, 0), 0x4));
  v.gpr[ESP] -= 8;
  mem.put32(v.gpr[ESP], 0x1000);
  mem.put32(v.gpr[ESP] + 4, kSlotSel);
  EXPECT_TRUE(Faulted(cpu.far_return(0), kGP, 0));
  EXPECT_EQ(v.seg[CS].sel, kKernelCode);
  EXPECT_EQ(v.gpr[ESP], kKernelStackTop - 8);
  EXPECT_EQ(v.eip, 0x1000u);
  mem.put32(v.gpr[ESP], 0xfff);
  EXPECT_TRUE(NoFault(cpu.far_return(0)));
  EXPECT_EQ(v.eip, 0xfffu);
}

TEST_F(FarTransfer, ReturnToInnerRingIsGp) {
  enter_ring(3);
  v.gpr[ESP] -= 8;
  mem.put32(v.gpr[ESP], 0x3333);
  mem.put32(v.gpr[ESP] + 4, kKernelCode);
  EXPECT_TRUE(Faulted(cpu.far_return(0), kGP, kKernelCode));
  EXPECT_EQ(v.gpr[ESP], kUserStackTop - 8);
  EXPECT_EQ(v.cpl, 3);
}

TEST_F(FarTransfer, ReturnToNullSelectorIsGp0) {
  v.gpr[ESP] -= 8;
  mem.put32(v.gpr[ESP], 0x3333);
  mem.put32(v.gpr[ESP] + 4, 0);
  EXPECT_TRUE(Faulted(cpu.far_return(0), kGP, 0));
}

// ---- absent and system descriptors (SDM JMP/CALL: #GP(selector) unless a gate or TSS) ----

TEST_F(FarTransfer, EmptyDescriptorIsGpSelector) {
  set_gdt(kSlot, 0);
  EXPECT_TRUE(Faulted(cpu.far_jump(kSlotSel, 0x10), kGP, kSlotSel));
  EXPECT_TRUE(Faulted(cpu.far_call(kSlotSel | 3, 0x10, 0x1007), kGP, kSlotSel));
  EXPECT_EQ(v.gpr[ESP], kKernelStackTop);
  EXPECT_EQ(v.seg[CS].sel, kKernelCode);
}

TEST_F(FarTransfer, LdtSelectorWithoutAnLdtIsGpSelector) {
  EXPECT_TRUE(Faulted(cpu.far_jump(0x0c, 0x10), kGP, 0x0c));
  EXPECT_TRUE(Faulted(cpu.far_call(0x0f, 0x10, 0x1007), kGP, 0x0c));
}

TEST_F(FarTransfer, LdtAndInterruptGateDescriptorsAreGpSelector) {
  EXPECT_TRUE(Faulted(cpu.far_jump(kLdtSel, 0x10), kGP, kLdtSel));
  set_gdt(kSlot, gate(kKernelCode, 0x10, kTypeIntGate));
  EXPECT_TRUE(Faulted(cpu.far_call(kSlotSel, 0x10, 0x1007), kGP, kSlotSel));
}

TEST_F(FarTransfer, BusyTssIsGpAndAvailableTssStopsTheVm) {
  EXPECT_TRUE(Faulted(cpu.far_jump(kTssSel, 0), kGP, kTssSel));  // the fixture's TR: busy
  set_gdt(kSlot, system_desc(0x5000, 0x67, kTypeTss32));
  EXPECT_THROW(cpu.far_jump(kSlotSel, 0), Unsupported);
  set_gdt(kSlot, system_desc(0x5000, 0x67, kTypeTss32, /*present=*/false));
  EXPECT_TRUE(Faulted(cpu.far_call(kSlotSel, 0, 0), kNP, kSlotSel));
  enter_ring(3);  // TSS DPL 0 < CPL 3
  EXPECT_TRUE(Faulted(cpu.far_jump(kSlotSel, 0), kGP, kSlotSel));
}

TEST_F(FarTransfer, TaskGateChecksItsDplAndPresenceThenStopsTheVm) {
  set_gdt(kSlot, gate(kSlot2Sel, 0, kTypeTaskGate, 0));
  set_gdt(kSlot + 1, system_desc(0x5000, 0x67, kTypeTss32));
  EXPECT_THROW(cpu.far_call(kSlotSel, 0, 0x1007), Unsupported);
  EXPECT_TRUE(Faulted(cpu.far_jump(kSlotSel | 3, 0), kGP, kSlotSel));  // RPL 3 > gate DPL 0
  set_gdt(kSlot, gate(kSlot2Sel, 0, kTypeTaskGate, 0, /*present=*/false));
  EXPECT_TRUE(Faulted(cpu.far_jump(kSlotSel, 0), kNP, kSlotSel));
}

// ---- call gates (same privilege) ----

constexpr uint8_t kTypeCallGate = 0xc;

TEST_F(FarTransfer, JumpThroughCallGateGoesToTheGateTarget) {
  set_gdt(kSlot, gate(kKernelCode, 0x4567, kTypeCallGate, 0));
  ASSERT_TRUE(NoFault(cpu.far_jump(kSlotSel, 0x1111)));  // the instruction's offset is ignored
  EXPECT_EQ(v.seg[CS].sel, kKernelCode);
  EXPECT_EQ(v.eip, 0x4567u);
  EXPECT_EQ(v.gpr[ESP], kKernelStackTop);
}

TEST_F(FarTransfer, CallThroughCallGateAtTheSamePrivilegePushesCsEip) {
  set_gdt(kSlot, gate(kUserCode, 0x4567, kTypeCallGate, 3));
  enter_ring(3);
  ASSERT_TRUE(NoFault(cpu.far_call(kSlotSel | 3, 0, 0x2222)));
  EXPECT_EQ(v.seg[CS].sel, kUserCode);
  EXPECT_EQ(v.cpl, 3);
  EXPECT_EQ(v.eip, 0x4567u);
  EXPECT_EQ(stack(0), 0x2222u);
  EXPECT_EQ(stack(1), uint32_t(kUserCode));
  EXPECT_EQ(v.gpr[ESP], kUserStackTop - 8);
}

TEST_F(FarTransfer, CallGateChecks) {
  enter_ring(3);
  set_gdt(kSlot, gate(kUserCode, 0x10, kTypeCallGate, 0));  // gate DPL 0 < CPL 3
  EXPECT_TRUE(Faulted(cpu.far_call(kSlotSel | 3, 0, 0), kGP, kSlotSel));
  set_gdt(kSlot, gate(kUserCode, 0x10, kTypeCallGate, 3, /*present=*/false));
  EXPECT_TRUE(Faulted(cpu.far_call(kSlotSel | 3, 0, 0), kNP, kSlotSel));
  set_gdt(kSlot, gate(0, 0x10, kTypeCallGate, 3));  // null code selector
  EXPECT_TRUE(Faulted(cpu.far_call(kSlotSel | 3, 0, 0), kGP, 0));
  set_gdt(kSlot, gate(kUserData, 0x10, kTypeCallGate, 3));  // not code
  EXPECT_TRUE(Faulted(cpu.far_jump(kSlotSel | 3, 0), kGP, kUserData & ~3u));
  // A jump through a gate to a more privileged non-conforming segment is #GP; a call stops.
  set_gdt(kSlot, gate(kKernelCode, 0x10, kTypeCallGate, 3));
  EXPECT_TRUE(Faulted(cpu.far_jump(kSlotSel | 3, 0), kGP, kKernelCode));
  EXPECT_THROW(cpu.far_call(kSlotSel | 3, 0, 0), Unsupported);
  EXPECT_EQ(v.cpl, 3);
  EXPECT_EQ(v.gpr[ESP], kUserStackTop);
}

// ---- far return to an outer ring (SDM RET: RETURN-TO-OUTER-PRIVILEGE-LEVEL) ----

TEST_F(FarTransfer, ReturnToRing3LoadsSsEspCplAndNullsKernelDataSegments) {
  ASSERT_TRUE(NoFault(cpu.load_segment(FS, kUserData)));  // DPL 3: kept
  v.gpr[ESP] -= 16 + 8;
  const uint32_t sp = v.gpr[ESP];
  mem.put32(sp, 0x4444);
  mem.put32(sp + 4, kUserCode);
  mem.put32(sp + 8 + 8, 0x7000);  // after 8 bytes of parameters: ESP, SS
  mem.put32(sp + 8 + 12, kUserData);
  ASSERT_TRUE(NoFault(cpu.far_return(8)));
  EXPECT_EQ(v.cpl, 3);
  EXPECT_EQ(v.eip, 0x4444u);
  EXPECT_EQ(v.seg[CS].sel, kUserCode);
  EXPECT_EQ(v.seg[SS].sel, kUserData);
  EXPECT_EQ(v.gpr[ESP], 0x7008u);  // the parameters go from the outer stack too
  EXPECT_EQ(v.seg[DS].sel, 0);
  EXPECT_FALSE(v.seg[DS].present());
  EXPECT_EQ(v.seg[ES].sel, 0);
  EXPECT_EQ(v.seg[FS].sel, kUserData);
  EXPECT_EQ(hooks.rings, std::vector<int>{3});
}

TEST_F(FarTransfer, ReturnToOuterRingChecksTheStackSelector) {
  auto frame = [&](uint32_t ss) {
    v.gpr[ESP] = kKernelStackTop - 16;
    mem.put32(v.gpr[ESP], 0x4444);
    mem.put32(v.gpr[ESP] + 4, kUserCode);
    mem.put32(v.gpr[ESP] + 8, 0x7000);
    mem.put32(v.gpr[ESP] + 12, ss);
  };
  frame(3);
  EXPECT_TRUE(Faulted(cpu.far_return(0), kGP, 0));
  frame(kUserData & ~3u);  // RPL 0 for a return to ring 3
  EXPECT_TRUE(Faulted(cpu.far_return(0), kGP, kUserData & ~3u));
  frame(kKernelData | 3);  // DPL 0
  EXPECT_TRUE(Faulted(cpu.far_return(0), kGP, kKernelData));
  set_gdt(kSlot, flat(kTypeDataRW | kTypeAccessed, 3, /*present=*/false));
  frame(kSlotSel | 3);
  EXPECT_TRUE(Faulted(cpu.far_return(0), kSS, kSlotSel));
  EXPECT_EQ(v.cpl, 0);
  EXPECT_EQ(v.seg[CS].sel, kKernelCode);
  EXPECT_EQ(v.seg[SS].sel, kKernelData);
  EXPECT_EQ(v.gpr[ESP], kKernelStackTop - 16);
}

TEST_F(FarTransfer, ReturnToASystemOrEmptyDescriptorIsGpSelector) {
  set_gdt(kSlot, 0);
  for (uint16_t sel : {kSlotSel, kTssSel}) {
    v.gpr[ESP] = kKernelStackTop - 8;
    mem.put32(v.gpr[ESP], 0x3333);
    mem.put32(v.gpr[ESP] + 4, sel);
    EXPECT_TRUE(Faulted(cpu.far_return(0), kGP, sel));
  }
}

TEST(ResetState, LdtrAndTrAreUnusable) {
  FakeMemory mem;
  FakePorts ports;
  FakeHooks hooks;
  Vcpu v;
  Cpu cpu{v, mem, ports, hooks};
  cpu.reset_multiboot(0x100000, 0x2badb002, 0x9000);
  EXPECT_FALSE(v.ldtr.present());
  EXPECT_FALSE(v.tr.present());
  EXPECT_EQ(v.ldtr.sel, 0);
  EXPECT_EQ(v.tr.sel, 0);
  // An LDT selector has no table behind it.
  EXPECT_TRUE(Faulted(cpu.load_segment(DS, 0x0c), kGP, 0x0c));
  EXPECT_TRUE(Faulted(cpu.far_jump(0x0c, 0), kGP, 0x0c));
}

}  // namespace
}  // namespace cpu::testing
