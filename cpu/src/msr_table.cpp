// Which MSRs each model has, with their power-on values and write rules: Intel SDM Vol. 4,
// "MSRs in the P6 Family Processors" (Pentium II/III) and "MSRs in Pentium Processors". MTRR,
// machine-check and SYSENTER MSRs exist only when CPUID advertises MTRR, MCA and SEP.
// docs/MSRS.md describes each.
#include <algorithm>

#include "cpu/msrs.h"

namespace cpu {

namespace {
using K = MsrKind;
constexpr uint64_t kAll = ~0ull, kHigh = 0xffffffff00000000ull;
constexpr uint64_t k40 = 0xffffffffffull;  // performance counters are 40 bits wide

void add(std::vector<MsrDef>& d, uint32_t index, std::string_view name, K kind, uint64_t reset,
         uint64_t writable, uint64_t reserved) {
  d.push_back({index, name, kind, reset, writable, reserved});
}

void add_pentium(std::vector<MsrDef>& d) {
  add(d, msr::CESR, "CESR", K::CesR, 0, 0x03ff03ff, ~0x03ff03ffull);
  add(d, msr::CTR0, "CTR0", K::Plain, 0, k40, ~k40);
  add(d, msr::CTR1, "CTR1", K::Plain, 0, k40, ~k40);
}

void add_p6(std::vector<MsrDef>& d, const CpuModel& m) {
  // PLATFORM_ID bits 52:50: the processor flag microcode updates are matched against.
  add(d, msr::PLATFORM_ID, "PLATFORM_ID", K::ReadOnly, (m.model() >= 8 ? 4ull : 1ull) << 50, 0, 0);
  // The local APIC is globally disabled, as a BIOS leaves it when it disables the APIC (CPUID
  // then has no APIC bit); the enable bit cannot be set again until reset. Base 0xFEE00000, BSP.
  add(d, msr::APIC_BASE, "APIC_BASE", K::Plain, 0xfee00100, 0xfffff100, kHigh | 0x6ff);
  // Bus 133 MHz (Pentium III) or 100 MHz (Pentium II); the error-checking enables are R/W.
  add(d, msr::EBL_CR_POWERON, "EBL_CR_POWERON", K::Plain, m.model() >= 8 ? 1ull << 18 : 2ull << 18,
      0x040000de, 0xfffffffff0000821ull);
  add(d, msr::TEST_CTL, "TEST_CTL", K::Plain, 0, 0xc0000000, ~0xc0000000ull);
  add(d, msr::BIOS_UPDT_TRIG, "BIOS_UPDT_TRIG", K::WriteOnly, 0, 0, 0);
  add(d, msr::BBL_CR_D0, "BBL_CR_D0", K::Plain, 0, kAll, 0);
  add(d, msr::BBL_CR_D0 + 1, "BBL_CR_D1", K::Plain, 0, kAll, 0);
  add(d, msr::BBL_CR_D0 + 2, "BBL_CR_D2", K::Plain, 0, kAll, 0);
  add(d, msr::BIOS_SIGN_ID, "BIOS_SIGN_ID", K::BiosSign, 0, kAll, 0);
  add(d, msr::PERFCTR0, "PERFCTR0", K::PerfCtr, 0, k40, 0);
  add(d, msr::PERFCTR1, "PERFCTR1", K::PerfCtr, 0, k40, 0);
  if (m.has(feature::MTRR))  // 8 variable ranges, fixed ranges, write-combining
    add(d, msr::MTRRCAP, "MTRRcap", K::ReadOnly, 0x508, 0, 0);
  add(d, msr::BBL_CR_ADDR, "BBL_CR_ADDR", K::Plain, 0, 0xffffffff8ull, ~0xffffffff8ull);
  add(d, msr::BBL_CR_DECC, "BBL_CR_DECC", K::Plain, 0, kAll, 0);
  add(d, msr::BBL_CR_CTL, "BBL_CR_CTL", K::Plain, 0, 0x3fffff, ~0x3fffffull);
  add(d, msr::BBL_CR_TRIG, "BBL_CR_TRIG", K::ZeroTrigger, 0, 0, 0);
  add(d, msr::BBL_CR_BUSY, "BBL_CR_BUSY", K::ReadOnly, 0, 0, 0);
  // L2 configured and enabled (as the BIOS leaves it): 512 KiB in one bank, 4-way, 36-bit
  // physical range, latency 2.
  add(d, msr::BBL_CR_CTL3, "BBL_CR_CTL3", K::Plain, 0x704505, 0x3e1ff, 0xfffffffffd0c0000ull);
  if (m.has(feature::SEP)) {
    add(d, msr::SYSENTER_CS, "SYSENTER_CS", K::Plain, 0, 0xffffffff, kHigh);
    add(d, msr::SYSENTER_ESP, "SYSENTER_ESP", K::Plain, 0, 0xffffffff, kHigh);
    add(d, msr::SYSENTER_EIP, "SYSENTER_EIP", K::Plain, 0, 0xffffffff, kHigh);
  }
  if (m.has(feature::MCA)) {
    add(d, msr::MCG_CAP, "MCG_CAP", K::ReadOnly, 0x105, 0, 0);  // 5 banks, MCG_CTL present
    add(d, msr::MCG_STATUS, "MCG_STATUS", K::Plain, 0, 0x7, ~0x7ull);
    add(d, msr::MCG_CTL, "MCG_CTL", K::Plain, 0, kAll, 0);
  }
  add(d, msr::EVNTSEL0, "EVNTSEL0", K::EvntSel, 0, 0xffdfffff, kHigh);
  add(d, msr::EVNTSEL1, "EVNTSEL1", K::EvntSel, 0, 0xffdfffff, kHigh);
  add(d, msr::DEBUGCTL, "DEBUGCTLMSR", K::DebugCtl, 0, 0x7f, ~0x7full);
  add(d, msr::LASTBRANCHFROMIP, "LASTBRANCHFROMIP", K::ReadOnly, 0, 0, 0);
  add(d, msr::LASTBRANCHFROMIP + 1, "LASTBRANCHTOIP", K::ReadOnly, 0, 0, 0);
  add(d, msr::LASTBRANCHFROMIP + 2, "LASTINTFROMIP", K::ReadOnly, 0, 0, 0);
  add(d, msr::LASTINTTOIP, "LASTINTTOIP", K::ReadOnly, 0, 0, 0);
  add(d, msr::ROB_CR_BKUPTMPDR6, "ROB_CR_BKUPTMPDR6", K::Plain, 0x4, 0x4, 0);  // fast strings on
  if (m.has(feature::MTRR)) {
    for (uint32_t i = 0; i < 8; ++i) {
      add(d, msr::MTRR_PHYSBASE0 + 2 * i, "MTRRphysBase", K::MtrrType, 0, 0xffffff0ffull,
          0xfffffff000000f00ull);
      add(d, msr::MTRR_PHYSBASE0 + 2 * i + 1, "MTRRphysMask", K::Plain, 0, 0xffffff800ull,
          0xfffffff0000007ffull);
    }
    add(d, msr::MTRR_FIX64K_00000, "MTRRfix64K_00000", K::MtrrType, 0, kAll, 0);
    add(d, msr::MTRR_FIX16K_80000, "MTRRfix16K_80000", K::MtrrType, 0, kAll, 0);
    add(d, msr::MTRR_FIX16K_A0000, "MTRRfix16K_A0000", K::MtrrType, 0, kAll, 0);
    for (uint32_t i = 0; i < 8; ++i)
      add(d, msr::MTRR_FIX4K_C0000 + i, "MTRRfix4K", K::MtrrType, 0, kAll, 0);
    add(d, msr::MTRR_DEF_TYPE, "MTRRdefType", K::MtrrType, 0, 0xcff, ~0xcffull);
  }
  if (m.has(feature::MCA)) {
    // Banks 0-2 and 4 at 0x400 + 4 * n, bank 3 at 0x410 (the P6 order). MCi_MISC is not
    // implemented on a P6 (#GP). No machine check ever happens: STATUS and ADDR read 0.
    for (uint32_t at : {0x400u, 0x404u, 0x408u, 0x40cu, 0x410u}) {
      add(d, at, "MCi_CTL", K::Plain, 0, kAll, 0);
      add(d, at + 1, "MCi_STATUS", K::McZeroOnly, 0, 0, 0);
      add(d, at + 2, "MCi_ADDR", K::McZeroOnly, 0, 0, 0);
    }
  }
}
}  // namespace

std::vector<MsrDef> msr_defs(const CpuModel& m) {
  std::vector<MsrDef> d;
  if (m.has(feature::MCE)) {  // architectural: no machine check has happened
    add(d, msr::P5_MC_ADDR, "P5_MC_ADDR", K::ReadOnly, 0, 0, 0);
    add(d, msr::P5_MC_TYPE, "P5_MC_TYPE", K::ReadOnly, 0, 0, 0);
  }
  add(d, msr::TSC, "TSC", K::Tsc, 0, kAll, 0);
  if (m.family() == 5)
    add_pentium(d);
  else
    add_p6(d, m);
  std::sort(d.begin(), d.end(), [](const MsrDef& a, const MsrDef& b) { return a.index < b.index; });
  return d;
}

}  // namespace cpu
