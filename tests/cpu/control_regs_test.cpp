// MOV to/from control and debug registers, LGDT/LIDT, SGDT/SIDT, CLTS, LMSW, INVLPG
// (SDM Vol. 2 MOV CR, MOV DR, LMSW; Vol. 3 §2.5).
#include "cpu_fixture.h"

namespace cpu::testing {
namespace {

using ControlRegs = CpuTest;

TEST_F(ControlRegs, Cr0PagingWithoutProtectionIsGp) {
  v.cr0 = cr0::ET;
  EXPECT_TRUE(Faulted(cpu.write_cr(0, cr0::PG), kGP, 0));
  EXPECT_EQ(v.cr0, cr0::ET);
  EXPECT_TRUE(hooks.paging.empty());
}

TEST_F(ControlRegs, Cr0NotWriteThroughWithoutCacheDisableIsGp) {
  EXPECT_TRUE(Faulted(cpu.write_cr(0, cr0::PE | cr0::NW), kGP, 0));
  EXPECT_TRUE(NoFault(cpu.write_cr(0, cr0::PE | cr0::NW | cr0::CD)));
}

TEST_F(ControlRegs, Cr0EnablingPagingTellsTheMmu) {
  ASSERT_TRUE(NoFault(cpu.write_cr(0, cr0::PE | cr0::PG | cr0::WP)));
  EXPECT_EQ(v.cr0, cr0::PE | cr0::PG | cr0::WP | cr0::ET) << "ET is hard-wired to 1";
  ASSERT_EQ(hooks.paging.size(), 1u);
  EXPECT_EQ(hooks.paging[0], std::make_pair(cr0::PE | cr0::ET, 0u));
}

TEST_F(ControlRegs, Cr0WriteWithoutPagingBitsChangedDoesNotTellTheMmu) {
  ASSERT_TRUE(NoFault(cpu.write_cr(0, cr0::PE | cr0::TS | cr0::MP)));
  EXPECT_TRUE(hooks.paging.empty());
  uint32_t value = 0;
  ASSERT_TRUE(NoFault(cpu.read_cr(0, value)));
  EXPECT_EQ(value, cr0::PE | cr0::TS | cr0::MP | cr0::ET);
}

TEST_F(ControlRegs, Cr4ReservedOrUnsupportedBitsAreGp) {
  for (uint32_t bit : {cr4::VME, cr4::PVI, cr4::PAE,  // OSFXSR/OSXMMEXCPT, MCE: the P3 has them
                       1u << 11, 1u << 20, 1u << 31}) {
    EXPECT_TRUE(Faulted(cpu.write_cr(4, bit), kGP, 0)) << std::hex << bit;
  }
  EXPECT_EQ(v.cr4, 0u);
}

TEST_F(ControlRegs, Cr4PseChangeTellsTheMmu) {
  ASSERT_TRUE(NoFault(cpu.write_cr(4, cr4::PSE | cr4::TSD)));
  EXPECT_EQ(v.cr4, cr4::PSE | cr4::TSD);
  ASSERT_EQ(hooks.paging.size(), 1u);
  EXPECT_EQ(hooks.paging[0], std::make_pair(v.cr0, 0u));
  ASSERT_TRUE(NoFault(cpu.write_cr(4, cr4::PSE)));
  EXPECT_EQ(hooks.paging.size(), 1u) << "TSD is not a paging bit";
}

TEST_F(ControlRegs, Cr3WriteTellsTheMmuEvenWhenUnchanged) {
  ASSERT_TRUE(NoFault(cpu.write_cr(3, 0x5000)));
  ASSERT_TRUE(NoFault(cpu.write_cr(3, 0x5000)));  // a TLB flush
  EXPECT_EQ(hooks.cr3, (std::vector<uint32_t>{0, 0x5000}));
  EXPECT_EQ(v.cr3, 0x5000u);
}

TEST_F(ControlRegs, Cr2IsPlainStorage) {
  ASSERT_TRUE(NoFault(cpu.write_cr(2, 0xdeadbeef)));
  uint32_t value = 0;
  ASSERT_TRUE(NoFault(cpu.read_cr(2, value)));
  EXPECT_EQ(value, 0xdeadbeefu);
}

TEST_F(ControlRegs, NonexistentControlRegistersAreUd) {
  uint32_t value = 0;
  for (int n : {1, 5, 6, 7, 8}) {
    EXPECT_TRUE(FaultedNoError(cpu.write_cr(n, 0), kUD)) << "CR" << n;
    EXPECT_TRUE(FaultedNoError(cpu.read_cr(n, value), kUD)) << "CR" << n;
  }
}

TEST_F(ControlRegs, AccessAtCpl3IsGp) {
  enter_ring(3);
  uint32_t value = 0;
  EXPECT_TRUE(Faulted(cpu.write_cr(0, cr0::PE), kGP, 0));
  EXPECT_TRUE(Faulted(cpu.read_cr(3, value), kGP, 0));
  EXPECT_TRUE(Faulted(cpu.write_dr(7, 0), kGP, 0));
  EXPECT_TRUE(Faulted(cpu.clts(), kGP, 0));
  EXPECT_TRUE(Faulted(cpu.lmsw(1), kGP, 0));
  EXPECT_TRUE(Faulted(cpu.invlpg(0x1000), kGP, 0));
  EXPECT_TRUE(Faulted(cpu.lgdt_lidt(false, 0x100), kGP, 0));
  EXPECT_TRUE(Faulted(cpu.wbinvd(), kGP, 0));
  EXPECT_TRUE(hooks.invlpgs.empty());
}

TEST_F(ControlRegs, LmswSetsLowBitsButCannotClearPe) {
  ASSERT_TRUE(NoFault(cpu.lmsw(cr0::MP | cr0::TS)));  // PE clear in the operand
  EXPECT_EQ(v.cr0, cr0::PE | cr0::ET | cr0::MP | cr0::TS);
  ASSERT_TRUE(NoFault(cpu.lmsw(0xfff0 | cr0::EM)));  // only bits 0-3 are written
  EXPECT_EQ(v.cr0, cr0::PE | cr0::ET | cr0::EM);
  EXPECT_EQ(cpu.smsw(), uint16_t(cr0::PE | cr0::ET | cr0::EM));
}

TEST_F(ControlRegs, CltsClearsTs) {
  v.cr0 |= cr0::TS;
  ASSERT_TRUE(NoFault(cpu.clts()));
  EXPECT_EQ(v.cr0, cr0::PE | cr0::ET);
}

TEST_F(ControlRegs, InvlpgTellsTheMmu) {
  ASSERT_TRUE(NoFault(cpu.invlpg(0xc0001234)));
  EXPECT_EQ(hooks.invlpgs, (std::vector<uint32_t>{0xc0001234}));
}

TEST_F(ControlRegs, LgdtLidtReadSixBytePseudoDescriptors) {
  mem.put16(0x500, 0x1234);
  mem.put32(0x502, 0xc0105000);
  ASSERT_TRUE(NoFault(cpu.lgdt_lidt(false, 0x500)));
  EXPECT_EQ(v.gdtr.base, 0xc0105000u);
  EXPECT_EQ(v.gdtr.limit, 0x1234);
  mem.put16(0x510, 0x7ff);
  mem.put32(0x512, 0xc0106000);
  ASSERT_TRUE(NoFault(cpu.lgdt_lidt(true, 0x510)));
  EXPECT_EQ(v.idtr.base, 0xc0106000u);
  EXPECT_EQ(v.idtr.limit, 0x7ff);
  EXPECT_EQ(v.gdtr.base, 0xc0105000u);
}

TEST_F(ControlRegs, SgdtSidtAreAllowedAtCpl3) {
  enter_ring(3);
  ASSERT_TRUE(NoFault(cpu.sgdt_sidt(false, 0x600)));
  ASSERT_TRUE(NoFault(cpu.sgdt_sidt(true, 0x610)));
  EXPECT_EQ(mem.get16(0x600), kGdtLimit);
  EXPECT_EQ(mem.get32(0x602), kGdt);
  EXPECT_EQ(mem.get16(0x610), kIdtLimit);
  EXPECT_EQ(mem.get32(0x612), kIdt);
  EXPECT_EQ(mem.writes().back().mode, Memory::Mode::User);
}

TEST_F(ControlRegs, DebugRegistersStoreValuesAndDr4Dr5AliasDr6Dr7) {
  ASSERT_TRUE(NoFault(cpu.write_dr(0, 0x1000)));
  ASSERT_TRUE(NoFault(cpu.write_dr(5, 0)));  // DR7 (no breakpoint enabled)
  uint32_t value = 0;
  ASSERT_TRUE(NoFault(cpu.read_dr(0, value)));
  EXPECT_EQ(value, 0x1000u);
  ASSERT_TRUE(NoFault(cpu.read_dr(7, value)));
  EXPECT_EQ(value, 0x400u);  // bit 10 reads as 1
  ASSERT_TRUE(NoFault(cpu.read_dr(4, value)));
  EXPECT_EQ(value, v.dr[6]);
}

TEST_F(ControlRegs, Dr6AndDr7HaveThePartsFixedBits) {
  Vcpu fresh;
  EXPECT_EQ(fresh.dr[6], 0xffff0ff0u);  // reset values
  EXPECT_EQ(fresh.dr[7], 0x400u);
  ASSERT_TRUE(NoFault(cpu.write_dr(6, 0)));
  EXPECT_EQ(v.dr[6], 0xffff0ff0u);
  ASSERT_TRUE(NoFault(cpu.write_dr(6, 0xffffffff)));
  EXPECT_EQ(v.dr[6], 0xffffeffFu);  // bit 12 reads as 0 on the P6
  ASSERT_TRUE(NoFault(cpu.write_dr(7, 0xffff0000)));
  EXPECT_EQ(v.dr[7], 0xffff0400u);
}

TEST_F(ControlRegs, EnablingABreakpointStopsTheVm) {
  ASSERT_TRUE(NoFault(cpu.write_dr(0, 0x1234)));
  for (uint32_t enable = 1; enable < 0x100; enable <<= 1)
    EXPECT_THROW(cpu.write_dr(7, enable), Unsupported) << enable;
  EXPECT_EQ(v.dr[7], 0x400u);
}

TEST_F(ControlRegs, GeneralDetectMakesTheNextDrAccessADebugFault) {
  ASSERT_TRUE(NoFault(cpu.write_dr(7, dr7::GD)));
  uint32_t value = 0;
  auto f = cpu.read_dr(0, value);
  ASSERT_TRUE(FaultedNoError(f, kDB));
  EXPECT_EQ(f->dr6, dr6::BD);
  EXPECT_EQ(v.dr[7] & dr7::GD, 0u) << "GD is cleared as the #DB is taken";
  EXPECT_TRUE(NoFault(cpu.read_dr(0, value)));
  // Privilege comes first.
  ASSERT_TRUE(NoFault(cpu.write_dr(7, dr7::GD)));
  enter_ring(3);
  EXPECT_TRUE(Faulted(cpu.write_dr(0, 1), kGP, 0));
}

TEST_F(ControlRegs, DebugFaultDeliverySetsDr6) {
  ASSERT_TRUE(NoFault(cpu.write_dr(6, 0)));
  Fault f{kDB};
  f.dr6 = dr6::BS;
  cpu.raise(f);
  EXPECT_EQ(v.dr[6], 0xffff0ff0u | dr6::BS);
  EXPECT_EQ(v.eip, handler(kDB));
}

TEST_F(ControlRegs, Cr4DeIsAcceptedWhereTheModelAdvertisesDe) {
  ASSERT_TRUE(cpu.model().has(feature::DE));  // every modelled part has it
  EXPECT_TRUE(NoFault(cpu.write_cr(4, cr4::DE)));
  EXPECT_EQ(v.cr4, cr4::DE);
}

TEST_F(ControlRegs, Dr4Dr5WithCr4DeAreUd) {
  // SDM Vol. 2 MOV DR: #UD if CR4.DE = 1 and DR4 or DR5 is referenced (a model with DE).
  v.cr4 = cr4::DE;
  uint32_t value = 0;
  EXPECT_TRUE(FaultedNoError(cpu.write_dr(4, 1), kUD));
  EXPECT_TRUE(FaultedNoError(cpu.write_dr(5, 1), kUD));
  EXPECT_TRUE(FaultedNoError(cpu.read_dr(4, value), kUD));
  EXPECT_TRUE(FaultedNoError(cpu.read_dr(5, value), kUD));
  EXPECT_EQ(v.dr[6], 0xffff0ff0u);
  EXPECT_EQ(v.dr[7], 0x400u);
  EXPECT_TRUE(NoFault(cpu.write_dr(7, 0x400)));
}

// ---- the state a multiboot loader leaves (Multiboot 0.6.96 §3.2) ----

using Reset = CpuTest;

TEST_F(Reset, MultibootStateIsFlatProtectedModeWithoutPagingOrInterrupts) {
  v.cr0 |= cr0::PG;
  v.cr4 = cr4::PSE;
  v.cpl = 3;
  v.gpr[ECX] = 0x55;
  v.write_eflags(fl::FIXED1 | fl::IF | fl::DF | (3u << 12));
  v.jc_table = 0x1234;  // engine state survives
  cpu.reset_multiboot(0x100000, 0x2badb002, 0x9500);
  EXPECT_EQ(v.eip, 0x100000u);
  EXPECT_EQ(v.gpr[EAX], 0x2badb002u);
  EXPECT_EQ(v.gpr[EBX], 0x9500u);
  EXPECT_EQ(v.gpr[ECX], 0u);
  EXPECT_EQ(v.cr0, cr0::PE | cr0::ET);
  EXPECT_EQ(v.cr4, 0u);
  EXPECT_EQ(v.cpl, 0);
  EXPECT_EQ(v.read_eflags(), fl::FIXED1);
  EXPECT_FALSE(v.if_flag);
  EXPECT_EQ(v.jc_table, 0x1234u);
  EXPECT_EQ(v.seg[CS].base, 0u);
  EXPECT_EQ(v.seg[CS].limit, 0xffffffffu);
  EXPECT_TRUE(v.seg[CS].is_code());
  EXPECT_TRUE(v.seg[CS].db());
  for (Seg s : {ES, SS, DS, FS, GS}) {
    EXPECT_EQ(v.seg[s].base, 0u) << int(s);
    EXPECT_EQ(v.seg_base[s], 0u) << int(s);
    EXPECT_EQ(v.seg[s].limit, 0xffffffffu) << int(s);
    EXPECT_FALSE(v.seg[s].is_code()) << int(s);
    EXPECT_EQ(v.seg[s].type() & 2, 2) << "writable " << int(s);
  }
  EXPECT_FALSE(cpu.shutdown());
}

}  // namespace
}  // namespace cpu::testing
