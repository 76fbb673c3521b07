// The parts bt86 can present (--cpu). Data from Intel's CPUID documentation (AP-485) for the
// real steppings named; `features` is the subset bt86 implements in both engines.
#include <algorithm>

#include "cpu/model.h"

namespace cpu {

namespace {
using namespace feature;
// What both engines implement today (docs/ARCHITECTURE.md lists what is left out and why).
// DE: CR4.DE makes DR4/DR5 #UD (control_regs.cpp); its I/O breakpoints are DR7 breakpoints,
// which stop the VM when enabled, like every other DR7 breakpoint (not implemented).
// MCE/MCA and MTRR are their MSRs (msr_table.cpp): no machine check ever happens, and memory
// types change nothing a guest can see.
constexpr uint32_t kImplemented =
    FPU | DE | PSE | TSC | MSR | CX8 | PGE | CMOV | MCE | MCA | MTRR | MMX | FXSR | SSE;

constexpr uint32_t kPentiumPart = FPU | VME | DE | PSE | TSC | MSR | MCE | CX8;
constexpr uint32_t kPentium2Part =
    kPentiumPart | PAE | APIC | SEP | MTRR | PGE | MCA | CMOV | PAT | PSE36 | MMX | FXSR;
constexpr uint32_t kPentium3Part = kPentium2Part | SSE;

constexpr CpuModel kModels[] = {
    {"pentium3",
     "Intel Pentium III (Tualatin, family 6 model 11 stepping 1)",
     "GenuineIntel",
     (6u << 8) | (11u << 4) | 1,
     kPentium3Part& kImplemented,
     kPentium3Part,
     2,
     {0x03020101, 0, 0, 0x0C040883},
     "Intel(R) Pentium(R) III CPU family      1400MHz"},
    {"pentium2",
     "Intel Pentium II (Deschutes, family 6 model 5 stepping 2)",
     "GenuineIntel",
     (6u << 8) | (5u << 4) | 2,
     kPentium2Part& kImplemented,
     kPentium2Part,
     2,
     {0x03020101, 0, 0, 0x0C040843},
     ""},
    {"pentium",
     "Intel Pentium (P54C, family 5 model 2 stepping 12)",
     "GenuineIntel",
     (5u << 8) | (2u << 4) | 12,
     kPentiumPart& kImplemented,
     kPentiumPart,
     1,
     {0, 0, 0, 0},
     ""},
};
}  // namespace

std::span<const CpuModel> cpu_models() {
  return kModels;
}

const CpuModel& default_cpu_model() {
  return kModels[0];
}

std::string feature_names(uint32_t edx) {
  static constexpr const char* kNames[32] = {
      "fpu",  "vme",  "de",   "pse", "tsc",  "msr", "pae",   "mce", "cx8",     "apic",  nullptr,
      "sep",  "mtrr", "pge",  "mca", "cmov", "pat", "pse36", "pn",  "clflush", nullptr, "dts",
      "acpi", "mmx",  "fxsr", "sse", "sse2", "ss",  "ht",    "tm",  "ia64",    "pbe"};
  std::string out;
  for (int bit = 0; bit < 32; ++bit) {
    if (!(edx >> bit & 1) || !kNames[bit]) continue;
    if (!out.empty()) out += ' ';
    out += kNames[bit];
  }
  return out;
}

const CpuModel* find_cpu_model(std::string_view name) {
  auto it = std::find_if(std::begin(kModels), std::end(kModels),
                         [&](const CpuModel& m) { return m.name == name; });
  return it == std::end(kModels) ? nullptr : &*it;
}

}  // namespace cpu
