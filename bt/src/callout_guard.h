// The frame every callout body runs in: the engine behind the vCPU pointer the runtime's
// callout stub passes, the per-kind count, and cpu::Unsupported turned into a VM stop.
#pragma once

#include <cstdint>

#include "engine_core.h"

namespace bt::callouts {

inline EngineCore& core_of(void* vp) {
  return *static_cast<EngineCore*>(static_cast<cpu::Vcpu*>(vp)->host_ctx);
}

// Runs `body` for a callout of `kind`, turning cpu::Unsupported into a VM stop.
template <typename F>
uint32_t guarded(void* vp, CalloutKind kind, F&& body) {
  EngineCore& e = core_of(vp);
  e.stats.callouts[size_t(kind)]++;
  try {
    return body(e, e.cpu);
  } catch (const cpu::Unsupported& u) {
    RunExit x;
    x.kind = RunExit::Kind::Unsupported;
    x.what = u.what;
    e.request_exit(x);
    return 1;
  }
}

// The privilege at which accesses made for the current instruction are checked.
inline cpu::Memory::Mode access_mode(const cpu::Vcpu& v) {
  return v.cpl == 3 ? cpu::Memory::Mode::User : cpu::Memory::Mode::Supervisor;
}

}  // namespace bt::callouts
