// The CPU model bt86 presents: one real part, chosen with --cpu. Its CPUID data, and the
// instruction set both engines must give the guest (an instruction the part lacks is #UD).
// Only features both engines implement are advertised; docs/ARCHITECTURE.md lists what a
// part has and bt86 leaves out.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace cpu {

// CPUID.1:EDX feature bits.
namespace feature {
inline constexpr uint32_t FPU = 1u << 0, VME = 1u << 1, DE = 1u << 2, PSE = 1u << 3, TSC = 1u << 4,
                          MSR = 1u << 5, PAE = 1u << 6, MCE = 1u << 7, CX8 = 1u << 8,
                          APIC = 1u << 9, SEP = 1u << 11, MTRR = 1u << 12, PGE = 1u << 13,
                          MCA = 1u << 14, CMOV = 1u << 15, PAT = 1u << 16, PSE36 = 1u << 17,
                          PSN = 1u << 18, MMX = 1u << 23, FXSR = 1u << 24, SSE = 1u << 25,
                          SSE2 = 1u << 26;
}

struct CpuModel {
  std::string_view name;          // --cpu NAME (QEMU's name where QEMU models the part)
  std::string_view description;   // one line for `--cpu help`
  std::string_view vendor;        // CPUID.0, 12 characters
  uint32_t signature;             // CPUID.1:EAX: stepping | model << 4 | family << 8
  uint32_t features;              // CPUID.1:EDX as bt86 advertises it
  uint32_t part_features;         // CPUID.1:EDX of the real part (for the docs and --cpu help)
  uint32_t max_basic_leaf;        // CPUID.0:EAX
  std::array<uint32_t, 4> leaf2;  // CPUID.2 EAX..EDX (cache and TLB descriptors)
  std::string_view brand;         // CPUID.0x80000002-4 (48 bytes); empty: no extended leaves

  bool has(uint32_t feature_bits) const { return (features & feature_bits) == feature_bits; }
  // Whether the real part has them (bt86 may not implement all: those stop the VM instead).
  bool part_has(uint32_t feature_bits) const {
    return (part_features & feature_bits) == feature_bits;
  }
  uint32_t family() const { return (signature >> 8) & 0xf; }
  uint32_t model() const { return (signature >> 4) & 0xf; }
};

// Every model, the default first.
std::span<const CpuModel> cpu_models();
const CpuModel& default_cpu_model();
// nullptr if there is no model of that name.
const CpuModel* find_cpu_model(std::string_view name);
// CPUID.1:EDX bits as Linux names them ("fpu vme de ..."), lowest bit first.
std::string feature_names(uint32_t edx);

}  // namespace cpu
