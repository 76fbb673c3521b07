// The callouts behind translated x87/MMX/SSE code (fpu_ops.cpp): the FPU gate, and the
// instructions that move the whole state between the vCPU's image and guest memory. The
// runtime's callout stub has saved the guest state into the image before any of these runs.
#include <fmt/format.h>

#include <algorithm>

#include "callout_guard.h"
#include "callouts.h"
#include "cpu/fpu_state.h"
#include "engine_core.h"

namespace bt::callouts {

namespace {
using cpu::FpuClass;
namespace fxs = cpu::fxs;

// The guest EIP of translated code at host address `low32` (the low half the 32-bit image
// formats keep), if it is one.
bool guest_eip_of(const EngineCore& e, uint32_t low32, uint32_t& eip) {
  const auto base = reinterpret_cast<uintptr_t>(e.cache.base()) & ~uintptr_t(0xffffffff);
  for (uintptr_t hi : {base, base + (uintptr_t(1) << 32)}) {
    const auto* p = reinterpret_cast<const uint8_t*>(hi | low32);
    if (!e.cache.contains(p)) continue;
    const Unit* u = e.cache.unit_at(p);
    if (!u) return false;
    const uint32_t off = uint32_t(p - u->host);
    auto it = std::upper_bound(
        u->insn_map.begin(), u->insn_map.end(), off,
        [](uint32_t o, const std::pair<uint32_t, uint32_t>& m) { return o < m.first; });
    eip = it == u->insn_map.begin() ? u->eip : (it - 1)->second;
    return true;
  }
  return false;
}

// The host recorded the last x87 instruction's address as its own: make it the guest's, with
// the guest's selectors (the data selector is DS's: which segment the operand used is not
// kept). MXCSR_MASK is reserved on the part (0: the default mask 0xffbf).
void guest_pointers(EngineCore& e) {
  cpu::Vcpu& v = e.v;
  uint32_t eip = 0;
  if (guest_eip_of(e, cpu::fpu_get32(v, fxs::FIP), eip)) {
    cpu::fpu_put32(v, fxs::FIP, eip);
    cpu::fpu_put16(v, fxs::FCS, v.seg[cpu::CS].sel);
    cpu::fpu_put16(v, fxs::FDS, v.seg[cpu::DS].sel);
  }
  cpu::fpu_put32(v, fxs::MXCSR_MASK, 0);
}

uint32_t linear(const cpu::Vcpu& v, uint64_t offset, uint64_t a1) {
  return v.seg[a1 & 7].base + uint32_t(offset);
}
}  // namespace

uint32_t fpu_gate(void* vp, uint64_t, uint64_t a1) {
  return guarded(vp, CalloutKind::Fpu, [&](EngineCore& e, cpu::Cpu&) -> uint32_t {
    if (auto f = cpu::fpu_class_fault(e.v, FpuClass(a1))) return finish_callout(e, f, true);
    // Resuming: the stub loads the state; every class CR0/CR4 allow is open until it leaves.
    for (unsigned k = 0; k < cpu::kFpuClasses; ++k)
      e.v.fpu_closed[k] = cpu::fpu_class_fault(e.v, FpuClass(k)) ? 1 : 0;
    return 0;
  });
}

uint32_t fpu_store(void* vp, uint64_t a0, uint64_t a1) {
  return guarded(vp, CalloutKind::Fpu, [&](EngineCore& e, cpu::Cpu&) -> uint32_t {
    cpu::Vcpu& v = e.v;
    if (auto f = cpu::fpu_class_fault(v, FpuClass::X87)) return finish_callout(e, f, false);
    const unsigned op = (a1 >> 8) & 0xff;
    const uint32_t at = linear(v, a0, a1);
    guest_pointers(e);
    uint8_t buf[512];
    unsigned n = 0;
    if (op == 2) {
      if (at & 15) return finish_callout(e, cpu::Fault::gp(0), false);
      n = fxs::kArchBytes;
      std::memcpy(buf, v.fpu, n);
    } else if (op == 1) {
      n = cpu::fpu_env_image(v, (a1 >> 16) & 1, buf);
    } else {
      n = cpu::fpu_save_image(v, (a1 >> 16) & 1, buf);
    }
    if (auto f = e.cpu.memory().write(at, buf, n, access_mode(v)))
      return finish_callout(e, f, false);
    if (op == 0) cpu::fpu_fninit(v);  // fnsave reinitialises the FPU
    if (op == 1) cpu::fpu_put16(v, fxs::FCW, cpu::fpu_get16(v, fxs::FCW) | 0x3f);  // masks all
    if (op != 2) v.x87_status_reset = 1;  // FERR# may drop (monitor/src/x87_ferr.h)
    return finish_callout(e, {}, false);
  });
}

uint32_t fpu_load(void* vp, uint64_t a0, uint64_t a1) {
  return guarded(vp, CalloutKind::Fpu, [&](EngineCore& e, cpu::Cpu&) -> uint32_t {
    cpu::Vcpu& v = e.v;
    const bool fxrstor = ((a1 >> 8) & 0xff) == 0;
    if (auto f = cpu::fpu_class_fault(v, fxrstor ? FpuClass::X87 : FpuClass::Sse))
      return finish_callout(e, f, false);
    const uint32_t at = linear(v, a0, a1);
    if (fxrstor && (at & 15)) return finish_callout(e, cpu::Fault::gp(0), false);
    uint8_t buf[fxs::kArchBytes];
    const unsigned n = fxrstor ? fxs::kArchBytes : 4;
    if (auto f = e.cpu.memory().read(at, buf, n, access_mode(v)))
      return finish_callout(e, f, false);
    uint32_t mxcsr;
    std::memcpy(&mxcsr, fxrstor ? buf + fxs::MXCSR : buf, 4);
    if (mxcsr & ~cpu::kMxcsrMask) return finish_callout(e, cpu::Fault::gp(0), false);
    if (fxrstor) {
      std::memcpy(v.fpu, buf, n);
      v.x87_status_reset = 1;  // FERR# may drop (monitor/src/x87_ferr.h)
    } else {
      cpu::fpu_put32(v, fxs::MXCSR, mxcsr);
    }
    return finish_callout(e, {}, false);
  });
}

}  // namespace bt::callouts
