// The virtual CPU model bt86 presents: a Pentium Pro-class integer CPU. Only features both
// engines implement are advertised (no FPU, no MMX/SSE, no PAE), so a guest that checks CPUID
// does not pick a path bt86 would have to refuse. PSE and PGE: the shadow MMU walks 4 MiB and
// global pages (global ones do not yet outlive CR3 writes, which the architecture permits).
#include <x86intrin.h>

#include <cstring>

#include "cpu/cpu.h"

namespace cpu {

namespace {
constexpr char kVendor[13] = "bt86bt86bt86";
constexpr uint32_t kFamilyModelStepping = (6u << 8) | (1u << 4) | 9;  // family 6 model 1
constexpr uint32_t kFeaturesEdx = (1u << 3)                           // PSE
                                  | (1u << 4)                         // TSC
                                  | (1u << 5)                         // MSR (rdmsr/wrmsr)
                                  | (1u << 8)                         // CMPXCHG8B
                                  | (1u << 13)                        // PGE
                                  | (1u << 15);                       // CMOV
}  // namespace

void Cpu::cpuid() {
  uint32_t leaf = v_.gpr[EAX];
  uint32_t a = 0, b = 0, c = 0, d = 0;
  switch (leaf) {
    case 0:
      a = 1;
      std::memcpy(&b, kVendor + 0, 4);
      std::memcpy(&d, kVendor + 4, 4);
      std::memcpy(&c, kVendor + 8, 4);
      break;
    case 1:
      a = kFamilyModelStepping;
      d = kFeaturesEdx;
      break;
    default:  // Intel: leaves above the maximum return the highest basic leaf's data
      a = kFamilyModelStepping;
      d = kFeaturesEdx;
      break;
  }
  v_.gpr[EAX] = a;
  v_.gpr[EBX] = b;
  v_.gpr[ECX] = c;
  v_.gpr[EDX] = d;
}

uint64_t Cpu::rdtsc() const {
  return __rdtsc() + uint64_t(v_.tsc_offset);
}

MaybeFault Cpu::rdtsc_checked() {
  if ((v_.cr4 & cr4::TSD) && v_.cpl != 0) return Fault::gp();
  uint64_t t = rdtsc();
  v_.gpr[EAX] = uint32_t(t);
  v_.gpr[EDX] = uint32_t(t >> 32);
  return {};
}

MaybeFault Cpu::rdmsr() {
  if (auto f = check_cpl0()) return f;
  uint64_t value;
  switch (v_.gpr[ECX]) {
    case 0x10:
      value = rdtsc();
      break;  // IA32_TIME_STAMP_COUNTER
    default:
      return Fault::gp();  // not modelled: #GP as for a reserved MSR
  }
  v_.gpr[EAX] = uint32_t(value);
  v_.gpr[EDX] = uint32_t(value >> 32);
  return {};
}

MaybeFault Cpu::wrmsr() {
  if (auto f = check_cpl0()) return f;
  uint64_t value = (uint64_t(v_.gpr[EDX]) << 32) | v_.gpr[EAX];
  switch (v_.gpr[ECX]) {
    case 0x10:
      v_.tsc_offset = int64_t(value - __rdtsc());
      return {};
    default:
      return Fault::gp();
  }
}

}  // namespace cpu
