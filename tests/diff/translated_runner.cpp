// The translated side of the differential tests: the same arena, run by bt/'s engine. The
// vCPU is set up like the native runner's compatibility-mode process (CPL 3, IF = 1, IOPL 0,
// flat segments) so sensitive instructions get the same answers.
#include <cstring>

#include "bt/engine.h"
#include "cpu/cpu.h"
#include "harness.h"

namespace difftest {
namespace {

// The arena is identity-mapped in this process, as the shadow window maps guest memory.
struct ArenaMemory final : cpu::Memory {
  static bool inside(uint32_t a, unsigned n) {
    return a >= kCodeBase && uint64_t(a) + n <= uint64_t(kRunnerBase);
  }
  cpu::MaybeFault read(uint32_t a, void* d, unsigned n, Mode) override {
    if (!inside(a, n)) return cpu::Fault{cpu::kPF, true, 4, a};
    std::memcpy(d, arena_ptr(a), n);
    return {};
  }
  cpu::MaybeFault write(uint32_t a, const void* s, unsigned n, Mode) override {
    if (!inside(a, n)) return cpu::Fault{cpu::kPF, true, 6, a};
    std::memcpy(arena_ptr(a), s, n);
    return {};
  }
};
struct NoPorts final : cpu::Ports {
  uint32_t in(uint16_t, unsigned) override { return ~0u; }
  void out(uint16_t, unsigned, uint32_t) override {}
};
struct NoHooks final : cpu::Hooks {
  void paging_changed(uint32_t, uint32_t) override {}
  void cr3_written(uint32_t) override {}
  void invlpg(uint32_t) override {}
};
struct ArenaCode final : bt::CodeSource {
  const uint8_t* code(uint32_t linear, uint32_t& avail) override {
    if (linear < kCodeBase || linear >= kCodeBase + kCodeSize) return nullptr;
    avail = 4096 - (linear & 4095);
    return arena_ptr(linear);
  }
};

class TranslatedRunner final : public Runner {
 public:
  TranslatedRunner() : engine_(cpu_, code_) {}
  const char* name() const override { return "translated"; }

  Outcome run(const TestCase& tc) override {
    cpu_.reset_multiboot(kCodeBase, 0, 0);
    v_.cpl = 3;
    // As the host kernel runs the native side: native x87 errors, SSE enabled with #XM.
    v_.cr0 |= cpu::cr0::NE | cpu::cr0::MP;
    v_.cr4 |= cpu::cr4::OSFXSR | cpu::cr4::OSXMMEXCPT;
    v_.seg[cpu::CS].attr |= 3 << 5;
    v_.seg[cpu::SS].attr |= 3 << 5;
    for (int i = 0; i < 8; ++i) v_.gpr[i] = tc.in.gpr[i];
    v_.write_eflags((tc.in.eflags & (cpu::fl::ARITH | cpu::fl::DF)) | cpu::fl::IF);
    // The code changes from case to case at the same address.
    engine_.flush();
    engine_.set_stop_eip(kCodeBase + uint32_t(tc.code.size()));
    bt::RunExit x = engine_.run();

    Outcome o;
    for (int i = 0; i < 8; ++i) o.state.gpr[i] = v_.gpr[i];
    o.state.eflags = v_.read_eflags();
    using K = bt::RunExit::Kind;
    switch (x.kind) {
      case K::Stop:
        break;
      case K::Exception:
        o.vector = x.fault.vector;
        o.error_code = x.fault.error;
        o.fault_eip = x.software ? x.next_eip : v_.eip;
        break;
      case K::MemoryFault:
        o.vector = x.host_trapno;
        o.error_code = x.host_error;
        o.fault_eip = v_.eip;
        break;
      default:
        // Halt, unsupported, event: no native counterpart; report an impossible vector so the
        // comparison fails and prints the case.
        o.vector = 1000 + int(x.kind);
        o.fault_eip = v_.eip;
        break;
    }
    return o;
  }

 private:
  cpu::Vcpu v_;
  ArenaMemory mem_;
  NoPorts ports_;
  NoHooks hooks_;
  cpu::Cpu cpu_{v_, mem_, ports_, hooks_};
  ArenaCode code_;
  bt::Engine engine_;
};

}  // namespace

std::unique_ptr<Runner> make_translated_runner() { return std::make_unique<TranslatedRunner>(); }

}  // namespace difftest
