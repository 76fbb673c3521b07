#include "outer_return.h"

namespace cpu {

MaybeFault outer_stack(Cpu& cpu, uint16_t ss_sel, uint8_t rpl, Segment& out) {
  if ((ss_sel & ~3u) == 0) return Fault::gp(0);
  uint64_t desc;
  if (auto f = cpu.read_descriptor(ss_sel, desc)) return f;
  out = Cpu::segment_from_descriptor(ss_sel, desc);
  const bool writable_data = out.s() && !(out.type() & 8) && (out.type() & 2);
  if ((ss_sel & 3) != rpl || out.dpl() != rpl || !writable_data) return Fault::gp(ss_sel & ~3u);
  if (!out.present()) return Fault{kSS, true, ss_sel & ~3u};
  out.attr |= 1;
  return {};
}

void null_data_segments_above(Vcpu& v, uint8_t cpl) {
  for (Seg s : {ES, DS, FS, GS}) {
    const Segment& d = v.seg[s];
    const bool conforming_code = d.s() && (d.type() & 0xc) == 0xc;
    if (d.present() && !conforming_code && d.dpl() < cpl) v.load_segment_cache(s, Segment{});
  }
}

}  // namespace cpu
