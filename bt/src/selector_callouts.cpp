// Callouts for the selector questions lar/lsl/verr/verw and for arpl: the answers come from
// cpu/ (descriptor_queries.cpp); here they reach the guest's registers, memory and ZF.
#include "callout_guard.h"
#include "callouts.h"

namespace bt::callouts {

namespace {
void set_zf(cpu::Vcpu& v, bool zf) {
  v.eflags = zf ? v.eflags | cpu::fl::ZF : v.eflags & ~cpu::fl::ZF;
}
}  // namespace

uint32_t selector_query(void* vp, uint64_t a0, uint64_t a1) {
  return guarded(vp, CalloutKind::SelectorQuery, [&](EngineCore& e, cpu::Cpu& c) {
    const unsigned op = a1 & 0xff, reg = (a1 >> 8) & 7, size = (a1 >> 16) & 0xff;
    const uint16_t sel = uint16_t(a0);
    bool valid = false;
    uint32_t value = 0;
    auto f = op < 2 ? c.lar_lsl(sel, op == 1, valid, value) : c.verr_verw(sel, op == 3, valid);
    if (f) return finish_callout(e, f, false);
    if (valid && op < 2) {
      uint32_t& r = e.v.gpr[reg];
      r = size == 4 ? value : (r & ~0xffffu) | (value & 0xffff);
    }
    set_zf(e.v, valid);
    return finish_callout(e, {}, false);
  });
}

uint32_t arpl(void* vp, uint64_t a0, uint64_t a1) {
  return guarded(vp, CalloutKind::SelectorQuery, [&](EngineCore& e, cpu::Cpu& c) {
    const unsigned src = a1 & 7, dst = (a1 >> 8) & 7;
    const uint16_t rpl_from = uint16_t(e.v.gpr[src]);
    if (!((a1 >> 16) & 1)) {
      uint16_t value = uint16_t(e.v.gpr[dst]);
      set_zf(e.v, cpu::Cpu::arpl(value, rpl_from));
      e.v.gpr[dst] = (e.v.gpr[dst] & ~0xffffu) | value;
      return finish_callout(e, {}, false);
    }
    // A read-modify-write: the destination must be writable even when it does not change.
    const uint32_t at = uint32_t(e.v.seg[(a1 >> 20) & 7].base + uint32_t(a0));
    const auto mode = access_mode(e.v);
    uint16_t value = 0;
    if (auto f = c.memory().read(at, &value, 2, mode)) return finish_callout(e, f, false);
    const bool changed = cpu::Cpu::arpl(value, rpl_from);
    if (auto f = c.memory().write(at, &value, 2, mode)) return finish_callout(e, f, false);
    set_zf(e.v, changed);
    return finish_callout(e, {}, false);
  });
}

}  // namespace bt::callouts
