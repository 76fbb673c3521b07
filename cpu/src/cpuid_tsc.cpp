// CPUID as the modelled part answers it (cpu/model.h), and the TSC (rdmsr/wrmsr: msr_file.cpp).
#include <x86intrin.h>

#include <algorithm>
#include <cstring>

#include "cpu/cpu.h"

namespace cpu {

namespace {
void put_string(std::string_view s, size_t at, uint32_t& a, uint32_t& b, uint32_t& c, uint32_t& d) {
  char buf[16] = {};
  if (at < s.size()) std::memcpy(buf, s.data() + at, std::min<size_t>(16, s.size() - at));
  std::memcpy(&a, buf, 4);
  std::memcpy(&b, buf + 4, 4);
  std::memcpy(&c, buf + 8, 4);
  std::memcpy(&d, buf + 12, 4);
}
}  // namespace

void Cpu::cpuid() {
  const CpuModel& m = *model_;
  uint32_t leaf = v_.gpr[EAX];
  const uint32_t max_ext = m.brand.empty() ? 0 : 0x80000004;
  // Intel: a leaf above the maximum (basic or extended) answers as the highest basic leaf.
  if (leaf >= 0x80000000 ? leaf > max_ext : leaf > m.max_basic_leaf) leaf = m.max_basic_leaf;
  uint32_t a = 0, b = 0, c = 0, d = 0;
  switch (leaf) {
    case 0:
      a = m.max_basic_leaf;
      std::memcpy(&b, m.vendor.data() + 0, 4);
      std::memcpy(&d, m.vendor.data() + 4, 4);
      std::memcpy(&c, m.vendor.data() + 8, 4);
      break;
    case 1:
      a = m.signature;
      d = m.features;
      break;
    case 2:
      a = m.leaf2[0];
      b = m.leaf2[1];
      c = m.leaf2[2];
      d = m.leaf2[3];
      break;
    case 0x80000000:
      a = max_ext;
      break;
    case 0x80000002:
    case 0x80000003:
    case 0x80000004:
      put_string(m.brand, (leaf - 0x80000002) * 16, a, b, c, d);
      break;
    default:
      break;
  }
  v_.gpr[EAX] = a;
  v_.gpr[EBX] = b;
  v_.gpr[ECX] = c;
  v_.gpr[EDX] = d;
  msrs_.cpuid_executed();
}

uint64_t Cpu::host_tsc() {
  return __rdtsc();
}

uint64_t Cpu::rdtsc() const {
  return host_tsc() + uint64_t(v_.tsc_offset);
}

MaybeFault Cpu::rdtsc_checked() {
  if ((v_.cr4 & cr4::TSD) && v_.cpl != 0) return Fault::gp();
  uint64_t t = rdtsc();
  v_.gpr[EAX] = uint32_t(t);
  v_.gpr[EDX] = uint32_t(t >> 32);
  return {};
}

}  // namespace cpu
