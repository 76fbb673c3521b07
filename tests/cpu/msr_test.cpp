// The MSRs of each model (cpu/msrs.h, docs/MSRS.md): which exist, their reset values, the write
// rules (#GP for reserved bits, read-only and write-only registers), rdpmc with CR4.PCE, and
// the writes that would start something bt86 does not model.
#include "cpu_fixture.h"

namespace cpu::testing {
namespace {

class Msr : public CpuTest {
 protected:
  MaybeFault rd(uint32_t index, uint64_t& value) {
    v.gpr[ECX] = index;
    auto f = cpu.rdmsr();
    value = (uint64_t(v.gpr[EDX]) << 32) | v.gpr[EAX];
    return f;
  }
  uint64_t rd(uint32_t index) {
    uint64_t value = 0;
    EXPECT_TRUE(NoFault(rd(index, value))) << std::hex << index;
    return value;
  }
  MaybeFault wr(uint32_t index, uint64_t value) {
    v.gpr[ECX] = index;
    v.gpr[EAX] = uint32_t(value);
    v.gpr[EDX] = uint32_t(value >> 32);
    return cpu.wrmsr();
  }
};

TEST_F(Msr, EveryDefinedMsrOfEveryModelReadsOrIsWriteOnly) {
  for (const CpuModel& m : cpu_models()) {
    Vcpu v2;
    Cpu c2{v2, mem, ports, hooks, m};
    for (const MsrDef& d : msr_defs(m)) {
      v2.gpr[ECX] = d.index;
      auto f = c2.rdmsr();
      EXPECT_EQ(bool(f), d.kind == MsrKind::WriteOnly) << m.name << " " << d.name;
    }
  }
}

TEST_F(Msr, IndicesThePartLacksAreGp) {
  uint64_t value;
  for (uint32_t index : {0x2u, 0x11u, 0x1a0u, 0x277u, 0x403u, 0x40fu, 0x413u, 0xc0000080u,
                         0x40000000u, 0xffffffffu}) {
    EXPECT_TRUE(Faulted(rd(index, value), kGP, 0)) << std::hex << index;
    EXPECT_TRUE(Faulted(wr(index, 0), kGP, 0)) << std::hex << index;
  }
}

TEST_F(Msr, SysenterMsrsAbsentWithoutSep) {
  uint64_t value;
  for (uint32_t index : {msr::SYSENTER_CS, msr::SYSENTER_ESP, msr::SYSENTER_EIP})
    EXPECT_TRUE(Faulted(rd(index, value), kGP, 0));
}

TEST_F(Msr, PentiumHasItsOwnSmallSet) {
  const CpuModel& p5 = *find_cpu_model("pentium");
  std::vector<uint32_t> indices;
  for (const MsrDef& d : msr_defs(p5)) indices.push_back(d.index);
  EXPECT_EQ(indices, (std::vector<uint32_t>{0x0, 0x1, 0x10, 0x11, 0x12, 0x13}));
}

TEST_F(Msr, ReadOnlyRegistersRefuseWrites) {
  for (uint32_t index : {msr::PLATFORM_ID, msr::MTRRCAP, msr::MCG_CAP, msr::BBL_CR_BUSY,
                         msr::P5_MC_TYPE, msr::LASTBRANCHFROMIP})
    EXPECT_TRUE(Faulted(wr(index, rd(index)), kGP, 0)) << std::hex << index;
  EXPECT_EQ(rd(msr::MTRRCAP), 0x508u);
  EXPECT_EQ(rd(msr::MCG_CAP), 0x105u);
  EXPECT_EQ(rd(msr::PLATFORM_ID), 4ull << 50);
}

TEST_F(Msr, ApicBaseIsDisabledAndStaysDisabled) {
  EXPECT_EQ(rd(msr::APIC_BASE), 0xfee00100u) << "base 0xFEE00000, BSP, global enable clear";
  EXPECT_TRUE(NoFault(wr(msr::APIC_BASE, 0xfec00900)));
  EXPECT_EQ(rd(msr::APIC_BASE), 0xfec00100u) << "the base moves, the enable bit stays clear";
  EXPECT_TRUE(Faulted(wr(msr::APIC_BASE, 0xfee00101), kGP, 0)) << "bit 0 is reserved";
  EXPECT_TRUE(Faulted(wr(msr::APIC_BASE, 1ull << 32 | 0xfee00100), kGP, 0));
  v.gpr[EAX] = 1;
  cpu.cpuid();
  EXPECT_EQ(v.gpr[EDX] & feature::APIC, 0u) << "CPUID agrees: no APIC";
}

TEST_F(Msr, BiosSignIdGetsTheRevisionFromCpuid) {
  EXPECT_TRUE(NoFault(wr(msr::BIOS_SIGN_ID, 0x1234567800000000ull)));
  EXPECT_EQ(rd(msr::BIOS_SIGN_ID), 0x1234567800000000ull);
  v.gpr[EAX] = 1;
  cpu.cpuid();
  EXPECT_EQ(rd(msr::BIOS_SIGN_ID), 0u) << "revision 0: no update loaded";
  uint64_t value;
  EXPECT_TRUE(Faulted(rd(msr::BIOS_UPDT_TRIG, value), kGP, 0)) << "write-only";
  EXPECT_TRUE(NoFault(wr(msr::BIOS_UPDT_TRIG, 0x10000)));
}

TEST_F(Msr, MtrrsCheckMemoryTypesAndReservedBits) {
  EXPECT_TRUE(NoFault(wr(msr::MTRR_PHYSBASE0, 0x00000006)));
  EXPECT_TRUE(NoFault(wr(msr::MTRR_PHYSBASE0 + 1, 0xff8000800ull)));
  EXPECT_EQ(rd(msr::MTRR_PHYSBASE0 + 1), 0xff8000800ull);
  EXPECT_TRUE(Faulted(wr(msr::MTRR_PHYSBASE0, 0x00000002), kGP, 0)) << "type 2 is reserved";
  EXPECT_TRUE(Faulted(wr(msr::MTRR_PHYSBASE0, 0x00000106), kGP, 0)) << "bit 8 is reserved";
  EXPECT_TRUE(Faulted(wr(msr::MTRR_PHYSBASE0, 1ull << 36 | 6), kGP, 0)) << "beyond 36 bits";
  EXPECT_TRUE(NoFault(wr(msr::MTRR_FIX4K_C0000, 0x0606060605050404ull)));
  EXPECT_TRUE(Faulted(wr(msr::MTRR_FIX4K_C0000, 0x0706060605050404ull), kGP, 0));
  EXPECT_TRUE(NoFault(wr(msr::MTRR_DEF_TYPE, 0xc06)));
  EXPECT_TRUE(Faulted(wr(msr::MTRR_DEF_TYPE, 0x1c06), kGP, 0));
  EXPECT_EQ(rd(msr::MTRR_DEF_TYPE), 0xc06u);
}

TEST_F(Msr, MachineCheckStatusTakesOnlyZero) {
  EXPECT_TRUE(NoFault(wr(0x401, 0)));
  EXPECT_TRUE(Faulted(wr(0x401, 1), kGP, 0));
  EXPECT_TRUE(Faulted(wr(0x412, 1ull << 63), kGP, 0));
  EXPECT_TRUE(NoFault(wr(0x410, ~0ull)));
  EXPECT_EQ(rd(0x410), ~0ull) << "MC3_CTL";
  EXPECT_TRUE(NoFault(wr(msr::MCG_STATUS, 4)));
  EXPECT_TRUE(Faulted(wr(msr::MCG_STATUS, 8), kGP, 0));
}

TEST_F(Msr, PerfCountersAre40BitsAndAWriteSignExtendsBit31) {
  EXPECT_TRUE(NoFault(wr(msr::PERFCTR0, 0xabcd80000001ull)));
  EXPECT_EQ(rd(msr::PERFCTR0), 0xff80000001ull);
  EXPECT_TRUE(NoFault(wr(msr::PERFCTR1, 0x7fffffff)));
  EXPECT_EQ(rd(msr::PERFCTR1), 0x7fffffffull);
}

TEST_F(Msr, CountersCountCyclesAndOtherEventsStopTheVm) {
  EXPECT_TRUE(NoFault(wr(msr::EVNTSEL1, 0x300c0)));  // USR|OS, no EN: EN is in EVNTSEL0
  EXPECT_TRUE(NoFault(wr(msr::EVNTSEL0, 0x0000c0)));
  EXPECT_TRUE(Faulted(wr(msr::EVNTSEL0, 1ull << 32), kGP, 0));
  EXPECT_THROW(wr(msr::EVNTSEL0, 0x4000c0), Unsupported) << "EN starts counter 1 (instructions)";
  EXPECT_TRUE(NoFault(wr(msr::EVNTSEL1, 0x10079)));
  EXPECT_THROW(wr(msr::EVNTSEL0, 0x400000), Unsupported) << "cycles in ring 3 only";
  EXPECT_TRUE(NoFault(wr(msr::EVNTSEL1, 0x70079)));
  EXPECT_THROW(wr(msr::EVNTSEL0, 0x400000), Unsupported) << "edge detect";
  EXPECT_TRUE(NoFault(wr(msr::EVNTSEL1, 0)));
  EXPECT_TRUE(NoFault(wr(msr::EVNTSEL0, 0x4000c0))) << "enabled, but nothing selected";
}

// The counters follow the cycle count the caller gives, so their arithmetic is checked at
// fixed times.
TEST(MsrFileCounters, CycleCounterRunsWhileEnabledAndKeepsItsCountWhenStopped) {
  MsrFile f(default_cpu_model());
  ASSERT_TRUE(f.write(msr::PERFCTR0, 0xfffffff0, 1000));  // sign-extended: 0xfffffffff0
  EXPECT_EQ(*f.read(msr::PERFCTR0, 5000), 0xfffffffff0u) << "not counting yet";
  ASSERT_TRUE(f.write(msr::EVNTSEL0, 0x530079, 2000));  // EN|INT|USR|OS, CPU_CLK_UNHALTED
  EXPECT_EQ(*f.read(msr::PERFCTR0, 2005), 0xfffffffff5u);
  EXPECT_EQ(*f.read(msr::PERFCTR0, 2020), 4u) << "40 bits, wrapping";
  EXPECT_EQ(f.perfctr(0, 2020), 4u);
  EXPECT_EQ(*f.read(msr::PERFCTR1, 2020), 0u) << "counter 1 selects nothing";
  ASSERT_TRUE(f.write(msr::PERFCTR0, 100, 3000));
  EXPECT_EQ(*f.read(msr::PERFCTR0, 3050), 150u) << "goes on from the written value";
  ASSERT_TRUE(f.write(msr::EVNTSEL1, 0x30079, 3100));
  EXPECT_EQ(*f.read(msr::PERFCTR1, 3150), 50u) << "counter 1 starts too";
  ASSERT_TRUE(f.write(msr::EVNTSEL0, 0x130079, 4000));  // EN clear: both stop
  EXPECT_EQ(*f.read(msr::PERFCTR0, 9000), 1100u);
  EXPECT_EQ(*f.read(msr::PERFCTR1, 9000), 900u);
  ASSERT_TRUE(f.write(msr::EVNTSEL0, 0x530079, 10000));
  EXPECT_EQ(*f.read(msr::PERFCTR0, 10001), 1101u) << "restarts from its count";
}

TEST_F(Msr, CycleCounterFollowsTheTimeStampCounter) {
  ASSERT_TRUE(NoFault(wr(msr::EVNTSEL0, 0x430079)));
  const uint64_t a = rd(msr::PERFCTR0);
  const uint64_t b = rd(msr::PERFCTR0);
  EXPECT_GT(b, a);
  v.gpr[ECX] = 0;
  ASSERT_TRUE(NoFault(cpu.rdpmc()));
  EXPECT_GE(v.gpr[EAX], uint32_t(b));
}

TEST_F(Msr, DebugCtlBranchFeaturesStopTheVm) {
  EXPECT_TRUE(NoFault(wr(msr::DEBUGCTL, 0x3c)));  // the PB pins only
  EXPECT_EQ(rd(msr::DEBUGCTL), 0x3cu);
  EXPECT_THROW(wr(msr::DEBUGCTL, 0x1), Unsupported);
  EXPECT_THROW(wr(msr::DEBUGCTL, 0x2), Unsupported);
  EXPECT_TRUE(Faulted(wr(msr::DEBUGCTL, 0x80), kGP, 0));
}

TEST_F(Msr, TscWriteSetsLowHalfAndClearsHighHalf) {
  EXPECT_TRUE(NoFault(wr(msr::TSC, 0x1234567800000000ull)));
  EXPECT_LT(rd(msr::TSC), 1ull << 40) << "the upper half was cleared";
}

TEST_F(Msr, RdpmcNeedsPceOutsideRing0AndCounter0Or1) {
  EXPECT_TRUE(NoFault(wr(msr::PERFCTR1, 0x80000005)));
  v.gpr[ECX] = 1;
  ASSERT_TRUE(NoFault(cpu.rdpmc()));
  EXPECT_EQ(v.gpr[EAX], 0x80000005u);
  EXPECT_EQ(v.gpr[EDX], 0xffu);
  v.gpr[ECX] = 2;
  EXPECT_TRUE(Faulted(cpu.rdpmc(), kGP, 0));
  enter_ring(3);
  v.gpr[ECX] = 0;
  EXPECT_TRUE(Faulted(cpu.rdpmc(), kGP, 0));
  v.cr4 |= cr4::PCE;
  EXPECT_TRUE(NoFault(cpu.rdpmc()));
}

TEST_F(Msr, Cr4PceAndMceAreP6Bits) {
  EXPECT_TRUE(NoFault(cpu.write_cr(4, cr4::PCE | cr4::MCE)));
  Vcpu v2;
  Cpu p5{v2, mem, ports, hooks, *find_cpu_model("pentium")};
  v2.cr0 = cr0::PE;
  EXPECT_TRUE(Faulted(p5.write_cr(4, cr4::PCE), kGP, 0));
  EXPECT_TRUE(NoFault(p5.write_cr(4, cr4::MCE)));
}

TEST_F(Msr, PentiumCountersStopTheVmWhenCounting) {
  Vcpu v2;
  Cpu p5{v2, mem, ports, hooks, *find_cpu_model("pentium")};
  v2.gpr[ECX] = msr::CESR;
  v2.gpr[EAX] = 0x3f;  // event select only
  EXPECT_TRUE(NoFault(p5.wrmsr()));
  v2.gpr[EAX] = 0x40;  // CC0 = 001: count
  EXPECT_THROW((void)p5.wrmsr(), Unsupported);
}

}  // namespace
}  // namespace cpu::testing
