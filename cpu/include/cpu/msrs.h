// The model-specific registers of the modelled part (Intel SDM Vol. 4: "MSRs in the P6 Family
// Processors" and "MSRs in Pentium Processors"), as rdmsr/wrmsr see them. Which MSRs exist
// follows the part and the CPUID features bt86 advertises for it (MTRR, MCA, SEP); any other
// index is #GP(0). docs/MSRS.md is the table of what each one does here.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "cpu/model.h"

namespace cpu {

namespace msr {
inline constexpr uint32_t P5_MC_ADDR = 0x0, P5_MC_TYPE = 0x1, TSC = 0x10, CESR = 0x11, CTR0 = 0x12,
                          CTR1 = 0x13, PLATFORM_ID = 0x17, APIC_BASE = 0x1b, EBL_CR_POWERON = 0x2a,
                          TEST_CTL = 0x33, BIOS_UPDT_TRIG = 0x79, BBL_CR_D0 = 0x88,
                          BIOS_SIGN_ID = 0x8b, PERFCTR0 = 0xc1, PERFCTR1 = 0xc2, MTRRCAP = 0xfe,
                          BBL_CR_ADDR = 0x116, BBL_CR_DECC = 0x118, BBL_CR_CTL = 0x119,
                          BBL_CR_TRIG = 0x11a, BBL_CR_BUSY = 0x11b, BBL_CR_CTL3 = 0x11e,
                          SYSENTER_CS = 0x174, SYSENTER_ESP = 0x175, SYSENTER_EIP = 0x176,
                          MCG_CAP = 0x179, MCG_STATUS = 0x17a, MCG_CTL = 0x17b, EVNTSEL0 = 0x186,
                          EVNTSEL1 = 0x187, DEBUGCTL = 0x1d9, LASTBRANCHFROMIP = 0x1db,
                          LASTINTTOIP = 0x1de, ROB_CR_BKUPTMPDR6 = 0x1e0, MTRR_PHYSBASE0 = 0x200,
                          MTRR_FIX64K_00000 = 0x250, MTRR_FIX16K_80000 = 0x258,
                          MTRR_FIX16K_A0000 = 0x259, MTRR_FIX4K_C0000 = 0x268,
                          MTRR_DEF_TYPE = 0x2ff, MC0_CTL = 0x400;
}

// How a write to an MSR is checked and what it changes.
enum class MsrKind : uint8_t {
  Plain,        // writable bits change; reserved bits set: #GP
  ReadOnly,     // every write is #GP
  WriteOnly,    // every read is #GP
  Tsc,          // the time-stamp counter (kept by Cpu as an offset)
  BiosSign,     // BIOS_SIGN_ID: CPUID loads the update revision into bits 63:32
  PerfCtr,      // 40 bits; a write sign-extends bit 31 (P6)
  EvntSel,      // counters count processor cycles (event 0x79); other events stop the VM
  CesR,         // Pentium: counter control; enabling counting stops the VM (not modelled)
  MtrrType,     // every memory-type field must be UC, WC, WT, WP or WB (#GP otherwise)
  McZeroOnly,   // MCi_STATUS/ADDR: only 0 may be written (#GP otherwise)
  DebugCtl,     // last-branch records / branch trap / trace messages stop the VM
  ZeroTrigger,  // BBL_CR_TRIG: only 0 may be written
};

struct MsrDef {
  uint32_t index;
  std::string_view name;
  MsrKind kind;
  uint64_t reset;     // value at power-on (as a BIOS leaves it, for configuration registers)
  uint64_t writable;  // bits a write changes (other non-reserved bits keep their value)
  uint64_t reserved;  // bits a write must leave clear (#GP(0) otherwise)
};

// The MSR definitions of a model (in index order).
std::vector<MsrDef> msr_defs(const CpuModel& m);

// The values of one CPU's MSRs. Returns nullopt from read/write for #GP(0); throws
// cpu::Unsupported (cpu/cpu.h) for a write that would turn on something bt86 does not model.
class MsrFile {
 public:
  explicit MsrFile(const CpuModel& m);
  bool exists(uint32_t index) const { return find(index) != nullptr; }
  // TSC is not kept here (Cpu reads it from the host counter); read/write refuse it.
  // `cycles` is the processor's cycle count now (the guest TSC): a performance counter
  // counting CPU_CLK_UNHALTED follows it.
  std::optional<uint64_t> read(uint32_t index, uint64_t cycles) const;
  bool write(uint32_t index, uint64_t value, uint64_t cycles);
  // CPUID was executed: BIOS_SIGN_ID gets the microcode revision (bits 63:32).
  void cpuid_executed();
  // PERFCTR0/1 (P6) for rdpmc.
  uint64_t perfctr(unsigned n, uint64_t cycles) const;
  std::span<const MsrDef> defs() const { return defs_; }

 private:
  const MsrDef* find(uint32_t index) const;
  uint64_t& stored(uint32_t index);
  void update_counting(uint64_t sel0, uint64_t sel1, uint64_t cycles);
  std::vector<MsrDef> defs_;
  std::vector<uint64_t> values_;  // parallel to defs_; a counting PERFCTR's value at its start
  bool counting_[2] = {};         // PERFCTR0/1 count cycles now
  uint64_t started_[2] = {};      // the cycle count when each started
};

}  // namespace cpu
