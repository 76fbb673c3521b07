// lar, lsl, verr, verw and arpl (SDM Vol. 2): questions about a selector that answer in ZF
// instead of faulting. A selector that is null, beyond its table's limit (or in an absent LDT),
// of a type the instruction does not accept, or not visible at max(CPL, RPL) gives ZF = 0; only
// a fault reading the descriptor itself (#PF) is raised. None of them checks P or sets the
// accessed bit.
#include <algorithm>

#include "cpu/cpu.h"

namespace cpu {

namespace {
// System descriptor types lar accepts: TSSes (16/32, available/busy), LDT, call gates (16/32),
// task gate. lsl accepts the segments among them: TSSes and LDT.
bool lar_system_type(uint8_t t) {
  return t == 1 || t == 2 || t == 3 || t == 4 || t == 5 || t == 9 || t == 0xb || t == 0xc;
}
bool lsl_system_type(uint8_t t) {
  return t == 1 || t == 2 || t == 3 || t == 9 || t == 0xb;
}
bool conforming_code(uint64_t desc) {
  return (desc >> 44 & 1) && ((desc >> 40) & 0xc) == 0xc;
}
}  // namespace

// nullopt: the selector names no descriptor the check may look at (ZF = 0).
MaybeFault Cpu::query_descriptor(uint16_t sel, std::optional<uint64_t>& desc) {
  desc.reset();
  if ((sel & ~3u) == 0) return {};
  uint64_t d;
  if (auto f = read_descriptor(sel, d)) {
    if (f->vector == kGP) return {};  // beyond the table's limit (or no LDT)
    return f;
  }
  const uint8_t dpl = (d >> 45) & 3, rpl = sel & 3;
  if (!conforming_code(d) && dpl < std::max<uint8_t>(v_.cpl, rpl)) return {};
  desc = d;
  return {};
}

MaybeFault Cpu::lar_lsl(uint16_t sel, bool lsl, bool& valid, uint32_t& value) {
  valid = false;
  std::optional<uint64_t> d;
  if (auto f = query_descriptor(sel, d)) return f;
  if (!d) return {};
  const bool system = !(*d >> 44 & 1);
  const uint8_t type = (*d >> 40) & 0xf;
  if (system && !(lsl ? lsl_system_type(type) : lar_system_type(type))) return {};
  valid = true;
  // lar: descriptor bits 63:32 masked with 00FxFF00 (bits 19:16, limit 19:16, are undefined in
  // the SDM; a P6 returns them, as Bochs does).
  value = lsl ? segment_from_descriptor(sel, *d).limit : uint32_t(*d >> 32) & 0x00ffff00;
  return {};
}

MaybeFault Cpu::verr_verw(uint16_t sel, bool write, bool& valid) {
  valid = false;
  std::optional<uint64_t> d;
  if (auto f = query_descriptor(sel, d)) return f;
  if (!d) return {};
  const Segment s = segment_from_descriptor(sel, *d);
  if (!s.s()) return {};
  const bool code = s.type() & 8;
  if (write ? (code || !(s.type() & 2)) : (code && !(s.type() & 2))) return {};
  valid = true;
  return {};
}

bool Cpu::arpl(uint16_t& dest, uint16_t src) {
  if ((dest & 3) >= (src & 3)) return false;
  dest = uint16_t((dest & ~3u) | (src & 3));
  return true;
}

}  // namespace cpu
