// Host signals raised by translated code (a guest access with nothing mapped behind it, a
// divide error, an invalid opcode) become exits with the guest state at the faulting guest
// instruction: guest registers are host registers, and every expansion is restartable, so the
// signal context is the guest state. The handler is a claimer of hostexec::host_signals, which runs
// it on the alternate stack (rsp is the guest's stack pointer, inside the guest window).
#include <signal.h>
#include <ucontext.h>

#include <algorithm>
#include <cstring>

#include "engine_core.h"
#include "hostexec/host_signals.h"

namespace bt {

namespace {
EngineCore* g_core = nullptr;
HostFault g_fault;

// ucontext register slots in guest register order (eax ecx edx ebx esp ebp esi edi).
constexpr int kGregs[8] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI};

bool on_fault(int sig, siginfo_t* si, ucontext_t* uc) {
  if (sig != SIGSEGV && sig != SIGBUS && sig != SIGFPE && sig != SIGILL) return false;
  greg_t* g = uc->uc_mcontext.gregs;
  auto* rip = reinterpret_cast<uint8_t*>(g[REG_RIP]);
  EngineCore* core = g_core;
  const Unit* u = core && core->cache.contains(rip) ? core->cache.unit_at(rip) : nullptr;
  if (!u) return false;
  const uint32_t off = uint32_t(rip - u->host);
  auto it = std::upper_bound(
      u->insn_map.begin(), u->insn_map.end(), off,
      [](uint32_t o, const std::pair<uint32_t, uint32_t>& e) { return o < e.first; });
  uint32_t eip = it == u->insn_map.begin() ? u->eip : (it - 1)->second;

  cpu::Vcpu& v = core->v;
  for (int i = 0; i < 8; ++i) v.gpr[i] = uint32_t(g[kGregs[i]]);
  v.eflags = (v.eflags & ~kHostFlagsMask) | (uint32_t(g[REG_EFL]) & kHostFlagsMask);
  v.eip = eip;
  v.exit_reason = uint32_t(cpu::Exit::Fault);
  g_fault = HostFault{sig, int(g[REG_TRAPNO]), uint64_t(g[REG_ERR]),
                      reinterpret_cast<uint64_t>(si->si_addr), eip};
  // Resume in the runtime's `leave`, which returns from enter() to the dispatcher.
  g[REG_RIP] = reinterpret_cast<greg_t>(core->rt.leave);
  g[REG_R15] = reinterpret_cast<greg_t>(&v);
  g[REG_EFL] &= ~greg_t(0x40500);  // TF, DF, AC: C++ expects them clear
  return true;
}
}  // namespace

HostFault& last_host_fault() {
  return g_fault;
}

void install_fault_handlers(EngineCore& core) {
  if (g_core) throw std::logic_error("only one translation engine per process");
  hostexec::host_signals::init();
  g_core = &core;
  hostexec::host_signals::add_claimer(on_fault);
}

void remove_fault_handlers() {
  hostexec::host_signals::remove_claimer(on_fault);
  g_core = nullptr;
}

}  // namespace bt
