#include "machine.h"

#include <fmt/format.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "devices_wiring.h"
#include "multiboot_loader.h"

namespace monitor {

namespace {
// Ctrl-C / SIGTERM: ask translated code to leave at the next unit entry. The handler only
// stores bytes; it runs on the alternate stack because rsp may be the guest's stack pointer.
cpu::Vcpu* g_vcpu = nullptr;
volatile sig_atomic_t g_interrupted = 0;
void on_interrupt(int) {
  g_interrupted = 1;
  if (g_vcpu) g_vcpu->pending.async = 1;
}

class Hooks final : public cpu::Hooks {
 public:
  void paging_changed(uint32_t, uint32_t) override {}
  void cr3_written(uint32_t) override {}
  void invlpg(uint32_t) override {}
};

// Guest code bytes with paging off: linear = physical, read from the physmap.
class PhysCode final : public bt::CodeSource {
 public:
  PhysCode(shadowmmu::AddressSpace& as, const cpu::Vcpu& v) : as_(as), v_(v) {}
  const uint8_t* code(uint32_t linear, uint32_t& avail) override {
    if (v_.paging()) return nullptr;
    const uint8_t* p = as_.phys(linear, 1);
    if (!p) return nullptr;
    avail = uint32_t(std::min<uint64_t>(4096 - (linear & 4095), as_.ram_size() - linear));
    return p;
  }

 private:
  shadowmmu::AddressSpace& as_;
  const cpu::Vcpu& v_;
};

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw LoadError(fmt::format("{}: cannot open the kernel file", path));
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}
}  // namespace

Machine::Machine(const Config& cfg) : cfg_(cfg), as_(cfg.mem_bytes), mem_(as_, vcpu_) {
  dev_ = make_devices(as_.ram_size(), [this](int status) {
    // isa-debug-exit: stop at the next unit entry with the guest's status.
    exit_status_ = status;
    vcpu_.pending.async = 1;
  });
  ports_ = make_port_bus(*dev_);
  hooks_ = std::make_unique<Hooks>();
  cpu_ = std::make_unique<cpu::Cpu>(vcpu_, mem_, *ports_, *hooks_);
  code_ = std::make_unique<PhysCode>(as_, vcpu_);
}

Machine::~Machine() { g_vcpu = nullptr; }

int Machine::stop(const std::string& reason) {
  print_state_report(reason, vcpu_, as_);
  return kExitVmStopped;
}

int Machine::run() {
  BootInfo boot = load_multiboot(read_file(cfg_.kernel), cfg_.kernel, cfg_.append, as_);
  cpu_->reset_multiboot(boot.entry, kMultibootBootloaderMagic, boot.info_addr);
  as_.map_identity();
  engine_ = std::make_unique<bt::Engine>(*cpu_, *code_);

  g_vcpu = &vcpu_;
  struct sigaction sa{}, old_int{}, old_term{};
  sa.sa_handler = on_interrupt;
  sa.sa_flags = SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);

  int status = loop();

  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  g_vcpu = nullptr;
  std::fflush(stdout);
  if (cfg_.stats) print_stats();
  return status;
}

int Machine::loop() {
  for (;;) {
    bt::RunExit x;
    try {
      x = engine_->run();
    } catch (const cpu::Unsupported& u) {
      return stop("unsupported: " + u.what);
    }
    if (exit_status_) return *exit_status_;
    if (g_interrupted) {
      std::fputs("bt86: interrupted\n", stderr);
      return kExitInterrupted;
    }
    using K = bt::RunExit::Kind;
    switch (x.kind) {
      case K::Event:
        vcpu_.pending.async = 0;
        // Device interrupts reach the vCPU with the interrupt controllers (next issue).
        if (vcpu_.pending.irq) return stop("interrupt line raised but no interrupt controller");
        break;
      case K::Halt:
        if (!vcpu_.if_flag) return stop("guest halted with interrupts disabled (cli; hlt)");
        return stop("guest halted waiting for an interrupt, and no device can raise one yet");
      case K::Exception:
        try {
          if (x.software) cpu_->software_interrupt(x.fault.vector, x.next_eip, true);
          else cpu_->raise(x.fault);
        } catch (const cpu::Unsupported& u) {
          return stop("unsupported: " + u.what);
        }
        if (cpu_->shutdown()) return stop(cpu_->shutdown_reason());
        break;
      case K::MemoryFault:
        return stop(fmt::format("guest {} at {:#010x}, where there is no RAM (paging off)",
                                x.write ? "write" : "access", x.address));
      case K::Unsupported:
        return stop("unsupported: " + x.what);
      case K::Stop:
        return stop("stop address reached");
    }
  }
}

void Machine::print_stats() const {
  std::string s = "bt86 statistics\n";
  s += engine_ ? engine_->stats().report() : "(the guest never ran)\n";
  s += devices_report(*dev_);
  std::fputs(s.c_str(), stderr);
}

}  // namespace monitor
