// Exception and interrupt delivery through the IDT, with the TSS stack switch, the error-code
// rules, and the double/triple-fault escalation (SDM Vol. 3 §6.12-6.15, Table 6-5; Vol. 2 INT n).
#include "cpu_fixture.h"

namespace cpu::testing {
namespace {

using Interrupts = CpuTest;

constexpr unsigned kSlot = 8;  // a free GDT slot
constexpr uint16_t kSlotSel = kSlot * 8;

// ---- same-privilege delivery ----

TEST_F(Interrupts, InterruptGateAtSameRingPushesEipCsEflags) {
  v.write_eflags(fl::FIXED1 | fl::IF | fl::TF | fl::NT | fl::CF | fl::DF | fl::AC);
  v.eip = 0x1234;
  cpu.deliver_interrupt(0x20);
  ASSERT_FALSE(cpu.shutdown());
  EXPECT_EQ(v.eip, handler(0x20));
  EXPECT_EQ(v.seg[CS].sel, kKernelCode);
  EXPECT_EQ(v.cpl, 0);
  EXPECT_EQ(v.seg[SS].sel, kKernelData);
  ASSERT_EQ(v.gpr[ESP], kKernelStackTop - 12);
  EXPECT_EQ(stack(0), 0x1234u);
  EXPECT_EQ(stack(1), kKernelCode);
  EXPECT_EQ(stack(2), fl::FIXED1 | fl::IF | fl::TF | fl::NT | fl::CF | fl::DF | fl::AC);
  // IF, TF and NT are cleared; the other flags stay.
  EXPECT_EQ(v.read_eflags(), fl::FIXED1 | fl::CF | fl::DF | fl::AC);
}

TEST_F(Interrupts, TrapGateLeavesIfSetButClearsTfAndNt) {
  set_gate(0x21, gate(kKernelCode, handler(0x21), kTypeTrapGate));
  v.write_eflags(fl::FIXED1 | fl::IF | fl::TF | fl::NT | fl::RF);
  cpu.deliver_interrupt(0x21);
  EXPECT_EQ(v.eip, handler(0x21));
  EXPECT_EQ(stack(2), fl::FIXED1 | fl::IF | fl::TF | fl::NT | fl::RF);
  EXPECT_EQ(v.read_eflags(), fl::FIXED1 | fl::IF);
}

TEST_F(Interrupts, ExceptionWithErrorCodePushesIt) {
  v.eip = 0x5678;
  cpu.raise(Fault::gp(0x1234));
  EXPECT_EQ(v.eip, handler(kGP));
  ASSERT_EQ(v.gpr[ESP], kKernelStackTop - 16);
  EXPECT_EQ(stack(0), 0x1234u);
  EXPECT_EQ(stack(1), 0x5678u);
  EXPECT_EQ(stack(2), kKernelCode);
  EXPECT_EQ(stack(3), fl::FIXED1);
}

TEST_F(Interrupts, ExceptionWithoutErrorCodePushesNone) {
  v.eip = 0x5678;
  cpu.raise(Fault::ud());
  EXPECT_EQ(v.eip, handler(kUD));
  ASSERT_EQ(v.gpr[ESP], kKernelStackTop - 12);
  EXPECT_EQ(stack(0), 0x5678u);
  EXPECT_EQ(stack(1), kKernelCode);
}

TEST_F(Interrupts, PageFaultSetsCr2AndPushesItsErrorCode) {
  cpu.raise(Fault{kPF, true, 0x6, 0xdeadb00f});
  EXPECT_EQ(v.cr2, 0xdeadb00fu);
  EXPECT_EQ(v.eip, handler(kPF));
  EXPECT_EQ(stack(0), 0x6u);
}

TEST_F(Interrupts, DeliveryWakesAHaltedCpu) {
  v.halted = true;
  cpu.deliver_interrupt(0x20);
  EXPECT_FALSE(v.halted);
}

TEST_F(Interrupts, ExceptionsIgnoreGateDpl) {
  // Only software interrupts check the gate DPL; a #GP at CPL 3 goes through a DPL 0 gate.
  enter_ring(3);
  cpu.raise(Fault::gp(0));
  EXPECT_EQ(v.eip, handler(kGP));
  EXPECT_EQ(v.cpl, 0);
}

TEST_F(Interrupts, SameRingDeliveryAtCpl3PushesWithUserAccesses) {
  // A DPL 3 handler reached from CPL 3 runs on the user stack; the pushes are user-mode
  // accesses (SDM Vol. 3 §4.6: only descriptor-table and TSS accesses are implicitly
  // supervisor), so they must respect U/S and R/W protection of the user stack.
  set_gate(0x40, gate(kUserCode, handler(0x40)));
  enter_ring(3);
  v.eip = 0x4000;
  mem.log.clear();
  cpu.deliver_interrupt(0x40);
  EXPECT_EQ(v.cpl, 3);
  EXPECT_EQ(v.seg[CS].sel, kUserCode);
  EXPECT_EQ(v.seg[SS].sel, kUserData);
  ASSERT_EQ(v.gpr[ESP], kUserStackTop - 12);
  EXPECT_EQ(stack(0), 0x4000u);
  auto writes = mem.writes();
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].linear, kUserStackTop - 12);
  EXPECT_EQ(writes[0].mode, Memory::Mode::User);
}

TEST_F(Interrupts, ConformingHandlerRunsAtTheCurrentCpl) {
  set_gdt(kSlot, code32(0, kTypeCodeConfXR | kTypeAccessed));
  set_gate(0x41, gate(kSlotSel, handler(0x41)));
  enter_ring(3);
  cpu.deliver_interrupt(0x41);
  EXPECT_EQ(v.cpl, 3);
  EXPECT_TRUE(hooks.rings.empty());  // no ring change
  EXPECT_EQ(v.seg[CS].sel, kSlotSel | 3);
  EXPECT_EQ(v.seg[SS].sel, kUserData);
  EXPECT_EQ(v.gpr[ESP], kUserStackTop - 12);
}

// ---- ring 3 -> ring 0 through the TSS ----

TEST_F(Interrupts, Ring3InterruptSwitchesToTheTssStack) {
  mem.put32(kTss + 4, 0x8800);  // ESP0
  enter_ring(3);
  v.gpr[ESP] = 0x7ff0;
  v.eip = 0x4444;
  v.write_eflags(fl::FIXED1 | fl::IF);
  cpu.deliver_interrupt(0x20);
  ASSERT_FALSE(cpu.shutdown());
  EXPECT_EQ(v.cpl, 0);
  EXPECT_EQ(v.seg[CS].sel, kKernelCode);
  EXPECT_EQ(v.seg[SS].sel, kKernelData);
  EXPECT_EQ(v.seg[SS].dpl(), 0);
  EXPECT_EQ(v.eip, handler(0x20));
  ASSERT_EQ(v.gpr[ESP], 0x8800u - 20);
  EXPECT_EQ(stack(0), 0x4444u);
  EXPECT_EQ(stack(1), kUserCode);
  EXPECT_EQ(stack(2), fl::FIXED1 | fl::IF);
  EXPECT_EQ(stack(3), 0x7ff0u);
  EXPECT_EQ(stack(4), kUserData);
  EXPECT_FALSE(v.if_flag);
  // The data segments are left as they were.
  EXPECT_EQ(v.seg[DS].sel, kUserData);
  // The shadow MMU hears of the way in (it may bring back what ring 3 could not reach).
  EXPECT_EQ(hooks.rings, std::vector<int>{0x80});
}

TEST_F(Interrupts, Ring3ExceptionFrameHasErrorCodeBelowTheUserStack) {
  enter_ring(3);
  v.eip = 0x4444;
  cpu.raise(Fault::gp(0x28));
  ASSERT_EQ(v.gpr[ESP], kKernelStackTop - 24);
  EXPECT_EQ(stack(0), 0x28u);
  EXPECT_EQ(stack(1), 0x4444u);
  EXPECT_EQ(stack(2), kUserCode);
  EXPECT_EQ(stack(4), kUserStackTop);
  EXPECT_EQ(stack(5), kUserData);
}

TEST_F(Interrupts, Ring3ToRing1UsesSs1Esp1) {
  set_gdt(kSlot, code32(1));
  set_gdt(kSlot + 1, data32(1));
  mem.put32(kTss + 12, 0x8400);                         // ESP1
  mem.put16(kTss + 16, uint16_t((kSlot + 1) * 8 | 1));  // SS1
  set_gate(0x50, gate(kSlotSel, handler(0x50)));
  enter_ring(3);
  cpu.deliver_interrupt(0x50);
  ASSERT_FALSE(cpu.shutdown()) << cpu.shutdown_reason();
  EXPECT_EQ(v.cpl, 1);
  EXPECT_EQ(v.seg[CS].sel, kSlotSel | 1);
  EXPECT_EQ(v.seg[SS].sel, (kSlot + 1) * 8 | 1);
  ASSERT_EQ(v.gpr[ESP], 0x8400u - 20);
  EXPECT_EQ(stack(3), kUserStackTop);
  EXPECT_EQ(stack(4), kUserData);
}

// The #TS tests send #TS to a DPL 3 handler so that it is delivered without a stack switch.
class TssStackChecks : public Interrupts {
 protected:
  void SetUp() override {
    Interrupts::SetUp();
    set_gate(kTS, gate(kUserCode, handler(kTS)));
    enter_ring(3);
  }
  // The error code of the #TS (or #SS) delivered on the user stack.
  void expect_delivered(uint8_t vector, uint32_t error) {
    ASSERT_FALSE(cpu.shutdown()) << cpu.shutdown_reason();
    EXPECT_EQ(v.eip, handler(vector));
    EXPECT_EQ(v.cpl, 3);
    ASSERT_EQ(v.gpr[ESP], kUserStackTop - 16);
    EXPECT_EQ(stack(0), error);
  }
};

TEST_F(TssStackChecks, NonWritableSs0IsTsWithItsSelectorAndExt) {
  mem.put16(kTss + 8, kKernelCode);
  cpu.deliver_interrupt(0x20);
  expect_delivered(kTS, kKernelCode | 1);
}

TEST_F(TssStackChecks, Ss0WithDplOtherThanTheNewCplIsTsWithoutExtForIntN) {
  mem.put16(kTss + 8, kUserData & ~3);  // RPL 0 but DPL 3
  set_gate(0x80, gate(kKernelCode, handler(0x80), kTypeTrapGate, 3));
  cpu.software_interrupt(0x80, 0x4002, true);
  expect_delivered(kTS, kUserData & ~3u);  // int n is not an external event: EXT = 0
}

TEST_F(TssStackChecks, NullSs0IsTsWithExtOnly) {
  mem.put16(kTss + 8, 0);
  cpu.deliver_interrupt(0x20);
  expect_delivered(kTS, 1);
}

TEST_F(TssStackChecks, Ss0SlotBeyondTssLimitIsTsWithTheTssSelector) {
  v.tr.limit = 8;  // the SS0 word would end at byte 9
  cpu.deliver_interrupt(0x20);
  expect_delivered(kTS, kTssSel | 1);
}

TEST_F(TssStackChecks, TrNeverLoadedIsTs) {
  v.tr = Segment{};  // as a reset leaves it: unusable
  cpu.deliver_interrupt(0x20);
  expect_delivered(kTS, 1);
}

TEST_F(TssStackChecks, NotPresentSs0IsSs) {
  set_gdt(kSlot, flat(kTypeDataRW | kTypeAccessed, 0, /*present=*/false));
  mem.put16(kTss + 8, kSlotSel);
  set_gate(kSS, gate(kUserCode, handler(kSS)));
  cpu.deliver_interrupt(0x20);
  expect_delivered(kSS, kSlotSel | 1);
}

// ---- software interrupts ----

TEST_F(Interrupts, SoftwareInterruptPushesTheNextEip) {
  set_gate(0x80, gate(kKernelCode, handler(0x80), kTypeTrapGate, 3));
  enter_ring(3);
  v.eip = 0x4000;
  cpu.software_interrupt(0x80, 0x4002, true);
  EXPECT_EQ(v.eip, handler(0x80));
  EXPECT_EQ(v.cpl, 0);
  ASSERT_EQ(v.gpr[ESP], kKernelStackTop - 20);
  EXPECT_EQ(stack(0), 0x4002u);
  EXPECT_EQ(stack(1), kUserCode);
}

TEST_F(Interrupts, SoftwareInterruptThroughGateWithDplBelowCplIsGp) {
  enter_ring(3);  // all gates are DPL 0
  v.eip = 0x4000;
  cpu.software_interrupt(0x80, 0x4002, true);
  ASSERT_FALSE(cpu.shutdown());
  EXPECT_EQ(v.eip, handler(kGP));
  ASSERT_EQ(v.gpr[ESP], kKernelStackTop - 24);
  EXPECT_EQ(stack(0), 0x80u * 8 + 2) << "IDT bit set, EXT clear";
  EXPECT_EQ(stack(1), 0x4000u) << "the #GP reports the int instruction";
}

TEST_F(Interrupts, Int3ThroughDpl0GateAtCpl3IsGp) {
  enter_ring(3);
  v.eip = 0x4000;
  cpu.software_interrupt(kBP, 0x4001, false);
  EXPECT_EQ(v.eip, handler(kGP));
  EXPECT_EQ(stack(0), kBP * 8u + 2);
}

TEST_F(Interrupts, SoftwareInterruptThroughNotPresentGateIsNpWithoutExt) {
  set_gate(0x30, gate(kKernelCode, handler(0x30), kTypeIntGate, 0, /*present=*/false));
  cpu.software_interrupt(0x30, 0x1002, true);
  EXPECT_EQ(v.eip, handler(kNP));
  EXPECT_EQ(stack(0), 0x30u * 8 + 2);
}

TEST_F(Interrupts, SoftwareInterruptBeyondIdtLimitIsGp) {
  v.idtr.limit = 0x30 * 8 - 1;
  cpu.software_interrupt(0x30, 0x1002, true);
  EXPECT_EQ(v.eip, handler(kGP));
  EXPECT_EQ(stack(0), 0x30u * 8 + 2);
  // The last byte of the gate at the limit is inside.
  v.idtr.limit = 0x30 * 8 + 7;
  v.gpr[ESP] = kKernelStackTop;
  cpu.software_interrupt(0x30, 0x1002, true);
  EXPECT_EQ(v.eip, handler(0x30));
}

TEST_F(Interrupts, GateOfWrongTypeIsGp) {
  set_gate(0x30, system_desc(kTss, 0x67, kTypeTss32));
  cpu.software_interrupt(0x30, 0x1002, true);
  EXPECT_EQ(v.eip, handler(kGP));
  EXPECT_EQ(stack(0), 0x30u * 8 + 2);
}

// ---- external interrupts: EXT = 1 in every error code their delivery produces ----

TEST_F(Interrupts, ExternalInterruptThroughNotPresentGateIsNpWithExt) {
  set_gate(0x30, gate(kKernelCode, handler(0x30), kTypeIntGate, 0, /*present=*/false));
  cpu.deliver_interrupt(0x30);
  EXPECT_EQ(v.eip, handler(kNP));
  EXPECT_EQ(stack(0), 0x30u * 8 + 3);
}

TEST_F(Interrupts, ExternalInterruptBeyondIdtLimitIsGpWithExt) {
  v.idtr.limit = 0x30 * 8 - 1;
  cpu.deliver_interrupt(0x30);
  EXPECT_EQ(v.eip, handler(kGP));
  EXPECT_EQ(stack(0), 0x30u * 8 + 3);
}

TEST_F(Interrupts, ExternalInterruptIgnoresGateDpl) {
  enter_ring(3);
  cpu.deliver_interrupt(0x30);  // DPL 0 gate
  EXPECT_EQ(v.eip, handler(0x30));
}

TEST_F(Interrupts, ExternalInterruptWithNullHandlerSelectorIsGpExt) {
  set_gate(0x30, gate(0, handler(0x30)));
  cpu.deliver_interrupt(0x30);
  EXPECT_EQ(v.eip, handler(kGP));
  EXPECT_EQ(stack(0), 1u);
}

TEST_F(Interrupts, ExternalInterruptWithHandlerSelectorBeyondGdtIsGpSelectorExt) {
  set_gate(0x30, gate(0x80, handler(0x30)));  // GDT index 16
  v.gdtr.limit = 0x7f;
  cpu.deliver_interrupt(0x30);
  EXPECT_EQ(v.eip, handler(kGP));
  EXPECT_EQ(stack(0), 0x81u);
}

TEST_F(Interrupts, ExternalInterruptWithNonCodeHandlerIsGpSelectorExt) {
  set_gate(0x30, gate(kKernelData, handler(0x30)));
  cpu.deliver_interrupt(0x30);
  EXPECT_EQ(v.eip, handler(kGP));
  EXPECT_EQ(stack(0), kKernelData | 1u);
}

TEST_F(Interrupts, HandlerCodeSegmentLessPrivilegedThanCplIsGp) {
  // A handler whose DPL is above the CPL (DPL 3 code from CPL 0) is a #GP(selector).
  set_gate(0x30, gate(kUserCode, handler(0x30)));
  cpu.software_interrupt(0x30, 0x1002, true);
  EXPECT_EQ(v.eip, handler(kGP));
  EXPECT_EQ(stack(0), kUserCode & ~3u);
}

TEST_F(Interrupts, HandlerOffsetBeyondTheCodeLimitIsGpExt) {
  set_gdt(kSlot, seg_desc(0, 0xfff, access(kTypeCodeXR | kTypeAccessed, 0), 0x4));
  set_gate(0x30, gate(kSlotSel, 0x1000));
  cpu.deliver_interrupt(0x30);
  EXPECT_EQ(v.eip, handler(kGP));
  ASSERT_EQ(v.gpr[ESP], kKernelStackTop - 16);
  EXPECT_EQ(stack(0), 1u);
  // From int n, EXT is clear; and the last byte of the segment is a valid entry point.
  v.gpr[ESP] = kKernelStackTop;
  cpu.software_interrupt(0x30, 0x1002, true);
  EXPECT_EQ(v.eip, handler(kGP));
  EXPECT_EQ(stack(0), 0u);
  set_gate(0x30, gate(kSlotSel, 0xfff));
  v.gpr[ESP] = kKernelStackTop;
  cpu.deliver_interrupt(0x30);
  EXPECT_EQ(v.eip, 0xfffu);
}

TEST_F(Interrupts, ExternalInterruptWithNotPresentHandlerIsNpSelectorExt) {
  set_gdt(kSlot, flat(kTypeCodeXR | kTypeAccessed, 0, /*present=*/false));
  set_gate(0x30, gate(kSlotSel, handler(0x30)));
  cpu.deliver_interrupt(0x30);
  EXPECT_EQ(v.eip, handler(kNP));
  EXPECT_EQ(stack(0), kSlotSel | 1u);
}

TEST_F(Interrupts, FaultWhileDeliveringAnExceptionHasExt) {
  // An earlier exception is an event external to the program (SDM Vol. 3 §6.13): a #NP found
  // while delivering a #UD has EXT = 1. (#UD is benign, so the #NP is delivered serially.)
  set_gate(kUD, gate(kKernelCode, handler(kUD), kTypeIntGate, 0, /*present=*/false));
  cpu.raise(Fault::ud());
  ASSERT_FALSE(cpu.shutdown());
  EXPECT_EQ(v.eip, handler(kNP));
  EXPECT_EQ(stack(0), kUD * 8u + 3);
}

TEST_F(Interrupts, UnreadableGateIsPageFaultDeliveredSerially) {
  // A gate in an unmapped page: #UD (benign) then #PF, which is delivered normally.
  mem.add_hole(kIdt + kUD * 8, kIdt + kUD * 8 + 8);
  cpu.raise(Fault::ud());
  ASSERT_FALSE(cpu.shutdown());
  EXPECT_EQ(v.eip, handler(kPF));
  EXPECT_EQ(v.cr2, kIdt + kUD * 8);
  EXPECT_EQ(stack(0), 0u) << "#PF error code: supervisor read of a not-present page";
}

TEST_F(Interrupts, UnreadableTssStackPointerIsPageFault) {
  mem.add_hole(kTss, kTss + 8);                  // ESP0
  set_gate(kPF, gate(kUserCode, handler(kPF)));  // deliverable at CPL 3 without the TSS
  enter_ring(3);
  cpu.deliver_interrupt(0x20);
  ASSERT_FALSE(cpu.shutdown());
  EXPECT_EQ(v.eip, handler(kPF));
  EXPECT_EQ(v.cr2, kTss + 4);
  EXPECT_EQ(v.cpl, 3);
}

// ---- double and triple faults (SDM Vol. 3 Table 6-5) ----

TEST_F(Interrupts, ContributoryDuringContributoryIsDoubleFault) {
  set_gate(kGP, gate(kKernelCode, handler(kGP), kTypeIntGate, 0, /*present=*/false));
  v.eip = 0x1111;
  cpu.raise(Fault::gp(0x10));
  ASSERT_FALSE(cpu.shutdown());
  EXPECT_EQ(v.eip, handler(kDF));
  ASSERT_EQ(v.gpr[ESP], kKernelStackTop - 16);
  EXPECT_EQ(stack(0), 0u) << "#DF's error code is 0";
  EXPECT_EQ(stack(1), 0x1111u);
}

TEST_F(Interrupts, PageFaultDuringPageFaultIsDoubleFault) {
  // The #PF handler's code descriptor lies in an unmapped page.
  set_gate(kPF, gate(kSlotSel, handler(kPF)));
  mem.add_hole(kGdt + kSlot * 8, kGdt + kSlot * 8 + 8);
  cpu.raise(Fault{kPF, true, 0, 0xc0000000});
  ASSERT_FALSE(cpu.shutdown());
  EXPECT_EQ(v.eip, handler(kDF));
  EXPECT_EQ(stack(0), 0u);
  EXPECT_EQ(v.cr2, kGdt + kSlot * 8) << "CR2 holds the second fault's address";
}

TEST_F(Interrupts, ContributoryDuringPageFaultIsDoubleFault) {
  set_gate(kPF, gate(kKernelCode, handler(kPF), kTypeIntGate, 0, /*present=*/false));
  cpu.raise(Fault{kPF, true, 0, 0xc0000000});
  EXPECT_EQ(v.eip, handler(kDF));
  EXPECT_EQ(v.cr2, 0xc0000000u);
}

TEST_F(Interrupts, PageFaultDuringContributoryIsDeliveredSerially) {
  set_gate(kGP, gate(kSlotSel, handler(kGP)));
  mem.add_hole(kGdt + kSlot * 8, kGdt + kSlot * 8 + 8);
  cpu.raise(Fault::gp(0));
  ASSERT_FALSE(cpu.shutdown());
  EXPECT_EQ(v.eip, handler(kPF));
  EXPECT_EQ(v.cr2, kGdt + kSlot * 8);
  EXPECT_EQ(stack(0), 0u) << "#PF error code: supervisor read of a not-present page";
}

TEST_F(Interrupts, ContributoryDuringBenignIsDeliveredSerially) {
  set_gate(kNM, gate(kKernelCode, handler(kNM), kTypeIntGate, 0, /*present=*/false));
  cpu.raise(Fault{kNM});
  ASSERT_FALSE(cpu.shutdown());
  EXPECT_EQ(v.eip, handler(kNP));
}

TEST_F(Interrupts, FaultDeliveringDoubleFaultIsTripleFault) {
  set_gate(kGP, gate(kKernelCode, handler(kGP), kTypeIntGate, 0, /*present=*/false));
  set_gate(kDF, gate(kKernelCode, handler(kDF), kTypeIntGate, 0, /*present=*/false));
  cpu.raise(Fault::gp(0));
  EXPECT_TRUE(cpu.shutdown());
  EXPECT_NE(cpu.shutdown_reason().find("triple"), std::string::npos) << cpu.shutdown_reason();
}

TEST_F(Interrupts, EmptyIdtIsTripleFault) {
  v.idtr.limit = 0;
  cpu.raise(Fault::gp(0));
  EXPECT_TRUE(cpu.shutdown());
}

TEST_F(Interrupts, UnmappedKernelStackIsTripleFault) {
  mem.add_hole(kKernelStackTop - 0x1000, kKernelStackTop);
  cpu.raise(Fault::ud());
  EXPECT_TRUE(cpu.shutdown());
}

TEST_F(Interrupts, NoShutdownWithoutFault) {
  cpu.raise(Fault::ud());
  EXPECT_FALSE(cpu.shutdown());
  EXPECT_TRUE(cpu.shutdown_reason().empty());
}

TEST(ExceptionClasses, ContributoryAreDeTsNpSsGp) {
  for (unsigned v = 0; v < 32; ++v) {
    bool expect = v == kDE || v == kTS || v == kNP || v == kSS || v == kGP;
    EXPECT_EQ(is_contributory(uint8_t(v)), expect) << "vector " << v;
  }
}

}  // namespace
}  // namespace cpu::testing
