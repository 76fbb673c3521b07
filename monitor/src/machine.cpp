#include "machine.h"

#include <fmt/format.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "devices_wiring.h"
#include "event_service.h"
#include "halt_sleep.h"
#include "multiboot_loader.h"
#include "virtual_timer.h"

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

// The run's signal dispositions, restored however the run ends.
class SignalScope {
 public:
  SignalScope() {
    struct sigaction sa = {};
    sa.sa_handler = on_interrupt;
    sa.sa_flags = SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
    old_tick_ = install_tick_handler();
  }
  ~SignalScope() {
    restore_tick_handler(old_tick_);
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  SignalScope(const SignalScope&) = delete;
  SignalScope& operator=(const SignalScope&) = delete;

 private:
  struct sigaction old_int_ = {};
  struct sigaction old_term_ = {};
  struct sigaction old_tick_ = {};
};

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw LoadError(fmt::format("{}: cannot open the kernel file", path));
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}
}  // namespace

Machine::Machine(const Config& cfg) : cfg_(cfg), as_(cfg.mem_bytes), mem_(as_, vcpu_) {
  // Each callback runs inside a port access: it records, and makes translated code leave at the
  // next unit entry (the port-out callout leaves at once when pending is set).
  DeviceEvents events;
  events.exit = [this](int status) {
    exit_status_ = status;
    vcpu_.pending.async = 1;
  };
  events.reset = [this] {
    reset_requested_ = true;
    vcpu_.pending.async = 1;
  };
  events.intr = [this](bool level) { vcpu_.set_irq_line(level); };
  dev_ = make_devices(as_.ram_size(), std::move(events));
  ports_ = make_port_bus(*dev_, [this] {
    if (events_ && events_->timer_outdated()) vcpu_.pending.async = 1;
  });
  hooks_ = std::make_unique<Hooks>();
  cpu_ = std::make_unique<cpu::Cpu>(vcpu_, mem_, *ports_, *hooks_);
  code_ = std::make_unique<PhysCode>(as_, vcpu_);
}

Machine::~Machine() {
  g_vcpu = nullptr;
}

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
  int status;
  {
    SignalScope signals;
    sigemptyset(&wake_signals_);
    for (int s : {SIGINT, SIGTERM, VirtualTimer::kSignal}) sigaddset(&wake_signals_, s);
    // Made here, on the thread that runs the vCPU, after the engine set up the alternate stack.
    timer_ = std::make_unique<VirtualTimer>(vcpu_);
    events_ = std::make_unique<EventService>(vcpu_, *cpu_, dev_->pic, dev_->pit, *timer_);
    // No tick may arrive once the handler is gone: SIGALRM's default action kills the process.
    try {
      status = loop();
    } catch (...) {
      events_.reset();
      timer_.reset();
      throw;
    }
    timer_->disarm();
  }
  g_vcpu = nullptr;
  std::fflush(stdout);
  if (cfg_.stats) print_stats();
  return status;
}

std::optional<int> Machine::finished() {
  if (exit_status_) return *exit_status_;
  if (reset_requested_) {
    std::fflush(stdout);
    std::fputs("bt86: guest requested a reset\n", stderr);
    return kExitGuestReset;
  }
  if (g_interrupted) {
    std::fflush(stdout);
    std::fputs("bt86: interrupted\n", stderr);
    return kExitInterrupted;
  }
  return std::nullopt;
}

std::optional<int> Machine::take_events() {
  try {
    events_->service();
  } catch (const cpu::Unsupported& u) {
    return stop("unsupported: " + u.what);
  }
  if (cpu_->shutdown()) return stop(cpu_->shutdown_reason());
  return std::nullopt;
}

std::optional<int> Machine::halt() {
  InterruptStats& st = events_->stats();
  ++st.halts;
  for (;;) {
    if (auto status = take_events()) return status;
    if (!vcpu_.halted) return std::nullopt;  // an interrupt was delivered
    if (!vcpu_.if_flag) return stop("guest halted with interrupts disabled (cli; hlt)");
    const auto deadline = events_->armed_deadline();
    if (!deadline)
      return stop(
          "guest halted waiting for an interrupt, and no device will raise one (the "
          "timer is not running)");
    st.slept_ns += sleep_until_event(*deadline, &vcpu_.pending.async, wake_signals_);
    ++st.sleeps;
    if (auto status = finished()) return status;
  }
}

int Machine::loop() {
  for (;;) {
    bt::RunExit x;
    try {
      x = engine_->run();
    } catch (const cpu::Unsupported& u) {
      return stop("unsupported: " + u.what);
    }
    if (auto status = finished()) return *status;
    using K = bt::RunExit::Kind;
    switch (x.kind) {
      case K::Event:
        if (auto status = take_events()) return *status;
        break;
      case K::Halt:
        if (auto status = halt()) return *status;
        break;
      case K::Exception:
        try {
          if (x.software)
            cpu_->software_interrupt(x.fault.vector, x.next_eip, true);
          else
            cpu_->raise(x.fault);
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
      case K::Yield:  // only with a yield check (direct execution), which this loop never sets
        break;
    }
  }
}

void Machine::print_stats() const {
  std::string s = "bt86 statistics\n";
  s += engine_ ? engine_->stats().report() : "(the guest never ran)\n";
  s += devices_report(*dev_);
  if (events_) s += events_->stats().report(VirtualTimer::ticks());
  std::fputs(s.c_str(), stderr);
}

}  // namespace monitor
