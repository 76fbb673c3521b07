// Descriptor-table reads and segment-register loads with the protected-mode checks
// (SDM Vol. 3 §5.5-5.8; Vol. 2 MOV/POP Sreg, LTR, LLDT).
#include <fmt/format.h>

#include "cpu/cpu.h"

namespace cpu {

MaybeFault Cpu::read_descriptor(uint16_t sel, uint64_t& desc) {
  const bool ldt = sel & 4;
  uint32_t base = ldt ? v_.ldtr.base : v_.gdtr.base;
  uint32_t limit = ldt ? v_.ldtr.limit : v_.gdtr.limit;
  if (ldt && !v_.ldtr.present()) return Fault::gp(sel & ~3u);
  uint32_t index = sel & ~7u;
  if (index + 7 > limit) return Fault::gp(sel & ~3u);
  return mem_.read(base + index, &desc, 8, Memory::Mode::Supervisor);
}

Segment Cpu::segment_from_descriptor(uint16_t sel, uint64_t d) {
  Segment s;
  s.sel = sel;
  s.base = uint32_t(((d >> 16) & 0xffffff) | ((d >> 56) << 24));
  s.limit = uint32_t((d & 0xffff) | ((d >> 32) & 0xf0000));
  s.attr = uint16_t(d >> 40);
  if (s.gran()) s.limit = (s.limit << 12) | 0xfff;
  return s;
}

// Sets the accessed bit the way the CPU does when it loads a descriptor.
static void mark_accessed(Memory& mem, const Vcpu& v, uint16_t sel, uint64_t& desc) {
  if (desc & (1ull << 40)) return;
  desc |= 1ull << 40;
  uint32_t base = (sel & 4) ? v.ldtr.base : v.gdtr.base;
  uint8_t byte = uint8_t(desc >> 40);
  mem.write(base + (sel & ~7u) + 5, &byte, 1, Memory::Mode::Supervisor);
}

MaybeFault Cpu::load_segment(Seg s, uint16_t sel) {
  if (!v_.protected_mode()) {
    throw Unsupported{"segment load in real mode"};
  }
  const uint8_t rpl = sel & 3;
  if ((sel & ~3u) == 0) {
    if (s == SS) return Fault::gp(0);
    v_.load_segment_cache(s, Segment{sel, 0, 0, 0});  // a null selector: unusable until reloaded
    return {};
  }
  uint64_t desc;
  if (auto f = read_descriptor(sel, desc)) return f;
  Segment seg = segment_from_descriptor(sel, desc);
  const uint32_t err = sel & ~3u;
  if (s == SS) {
    bool writable_data = seg.s() && !(seg.type() & 8) && (seg.type() & 2);
    if (rpl != v_.cpl || seg.dpl() != v_.cpl || !writable_data) return Fault::gp(err);
    if (!seg.present()) return Fault{kSS, true, err};
    v_.irq_shadow = true;  // mov ss / pop ss inhibit interrupts for one instruction
  } else {
    bool readable = seg.s() && (!(seg.type() & 8) || (seg.type() & 2));
    if (!readable) return Fault::gp(err);
    bool conforming_code = (seg.type() & 0xc) == 0xc;
    if (!conforming_code && seg.dpl() < std::max(v_.cpl, rpl)) return Fault::gp(err);
    if (!seg.present()) return Fault{kNP, true, err};
  }
  mark_accessed(mem_, v_, sel, desc);
  seg.attr |= 1;
  v_.load_segment_cache(s, seg);
  return {};
}

MaybeFault Cpu::lldt(uint16_t sel) {
  if (auto f = check_cpl0()) return f;
  if ((sel & ~3u) == 0) {
    v_.ldtr = Segment{sel, 0, 0, 0};
    return {};
  }
  if (sel & 4) return Fault::gp(sel & ~3u);
  uint64_t desc;
  if (auto f = read_descriptor(sel, desc)) return f;
  Segment seg = segment_from_descriptor(sel, desc);
  if (seg.s() || seg.type() != 2) return Fault::gp(sel & ~3u);
  if (!seg.present()) return Fault{kNP, true, sel & ~3u};
  v_.ldtr = seg;
  return {};
}

MaybeFault Cpu::ltr(uint16_t sel) {
  if (auto f = check_cpl0()) return f;
  if ((sel & ~3u) == 0 || (sel & 4)) return Fault::gp(sel & ~3u);
  uint64_t desc;
  if (auto f = read_descriptor(sel, desc)) return f;
  Segment seg = segment_from_descriptor(sel, desc);
  if (seg.s() || (seg.type() != 1 && seg.type() != 9)) return Fault::gp(sel & ~3u);
  if (!seg.present()) return Fault{kNP, true, sel & ~3u};
  // Mark the TSS busy in the GDT, as the CPU does.
  uint8_t byte = uint8_t((desc >> 40) | 2);
  if (auto f = mem_.write(v_.gdtr.base + (sel & ~7u) + 5, &byte, 1, Memory::Mode::Supervisor))
    return f;
  seg.attr |= 2;
  v_.tr = seg;
  return {};
}

}  // namespace cpu
