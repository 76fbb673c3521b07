// The oracle: runs a test case directly on the host CPU in 32-bit compatibility mode.
#include <signal.h>
#include <ucontext.h>

#include <atomic>
#include <cstring>
#include <stdexcept>
#include <string>

#include "harness.h"
#include "native_layout.h"
#include "signal_scope.h"

namespace difftest {
namespace {

using native::block;

constexpr uint16_t kUser32Cs = 0x23, kUser64Cs = 0x33;
constexpr uint32_t kTF = 1u << 8, kAC = 1u << 18;

// What the fault handler saw. Written only by the handler, read after the run.
struct FaultRecord {
  bool hit;
  int vector;
  uint32_t error_code;
  uint32_t eip;
  CpuState state;
};
FaultRecord g_fault;
volatile sig_atomic_t g_running;

void on_fault(int sig, siginfo_t* info, void* context) {
  auto* uc = static_cast<ucontext_t*>(context);
  greg_t* g = uc->uc_mcontext.gregs;
  const auto cs = static_cast<uint16_t>(g[REG_CSGSFS] & 0xffff);
  if (!g_running || cs != kUser32Cs || g_fault.hit) {
    // Not the code under test: a bug in the runner itself. Die the way we would have.
    signal(sig, SIG_DFL);
    raise(sig);
    return;
  }
  constexpr int kRegs[8] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI};
  for (int i = 0; i < 8; ++i) g_fault.state.gpr[i] = static_cast<uint32_t>(g[kRegs[i]]);
  g_fault.state.eflags = static_cast<uint32_t>(g[REG_EFL]);
  const bool int3 = sig == SIGTRAP && info->si_code == SI_KERNEL;
  g_fault.vector = int3 ? 3 : static_cast<int>(g[REG_TRAPNO]);
  g_fault.error_code = static_cast<uint32_t>(g[REG_ERR]);
  g_fault.eip = static_cast<uint32_t>(g[REG_RIP]);
  g_fault.hit = true;
  // Leave through the exit stub in 64-bit mode, as if the code had reached its end.
  g[REG_RIP] = native::kExitStub;
  g[REG_CSGSFS] = (g[REG_CSGSFS] & ~greg_t{0xffff}) | kUser64Cs;
  g[REG_EFL] &= ~greg_t{kDF | kTF | kAC};
}

class NativeRunner final : public Runner {
 public:
  NativeRunner() {
    map_arena();
    native::write_stubs();
  }
  const char* name() const override { return "native"; }

  Outcome run(const TestCase& tc) override {
    if (tc.code.size() > kCodeSize - 16) {
      throw std::invalid_argument("difftest: case '" + tc.name + "': code too long");
    }
    append_exit_jump(static_cast<uint32_t>(tc.code.size()));
    native::Block* b = block();
    std::memcpy(b->in_gpr, tc.in.gpr, sizeof b->in_gpr);
    b->in_eflags = (tc.in.eflags & kComparedFlags) | kFixedFlags;
    g_fault.hit = false;
    {
      native::SignalScope scope(on_fault);
      g_running = 1;
      std::atomic_signal_fence(std::memory_order_seq_cst);
      reinterpret_cast<void (*)()>(static_cast<uintptr_t>(native::kEnterStub))();
      std::atomic_signal_fence(std::memory_order_seq_cst);
      g_running = 0;
    }
    Outcome out;
    if (g_fault.hit) {
      out.state = g_fault.state;
      out.vector = g_fault.vector;
      out.error_code = g_fault.error_code;
      out.fault_eip = g_fault.eip;
    } else {
      std::memcpy(out.state.gpr, b->out_gpr, sizeof out.state.gpr);
      out.state.eflags = b->out_eflags;
    }
    return out;
  }

 private:
  static void append_exit_jump(uint32_t code_size) {
    const uint32_t at = kCodeBase + code_size;
    const uint32_t rel = native::kEpilogue - (at + 5);
    uint8_t* p = arena_ptr(at);
    p[0] = 0xe9;  // jmp rel32
    std::memcpy(p + 1, &rel, sizeof rel);
  }
};

}  // namespace

std::unique_ptr<Runner> make_native_runner() {
  return std::make_unique<NativeRunner>();
}

}  // namespace difftest
