#include "machine.h"

#include <fmt/format.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cstdio>

#include "console_input.h"
#include "devices/clock.h"
#include "devices_wiring.h"
#include "event_service.h"
#include "halt_sleep.h"
#include "hostexec/host_signals.h"
#include "interrupt_exit.h"
#include "kernel_boot.h"
#include "unit_tools.h"
#include "virtual_timer.h"
#include "x87_ferr.h"

namespace monitor {

namespace {
// Ctrl-C / SIGTERM: ask translated code to leave at the next unit entry. The handler only
// stores bytes; it runs on the alternate stack because rsp may be the guest's stack pointer.
cpu::Vcpu* g_vcpu = nullptr;
volatile sig_atomic_t g_interrupted = 0;
volatile int64_t g_interrupted_ns = 0;  // when the first one came (CLOCK_MONOTONIC)
// GNU timeout sends its signal to the child and then to the process group, so one request can
// arrive twice within microseconds; only a later one is a second request.
constexpr int64_t kSecondInterruptNs = 200'000'000;
void on_interrupt(int) {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);  // async-signal-safe
  const int64_t now = int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  // A second one ends bt86 at once: the first may be waiting behind a blocked host write
  // (guest output to a pipe nobody reads), which SA_RESTART resumes.
  if (g_interrupted) {
    if (now - g_interrupted_ns >= kSecondInterruptNs) exit_interrupted_now();
    return;
  }
  g_interrupted_ns = now;
  g_interrupted = 1;
  if (g_vcpu) g_vcpu->pending.async = 1;
}

// The CPU's state changes the shadow and the translation cache must follow. They run inside
// callouts, on the monitor stack: the shadow changes at once (the guest's next access must see
// it), but the translation cache is only flushed back in the loop, because the code that made
// the callout is still running.
class Hooks final : public cpu::Hooks {
 public:
  Hooks(shadowmmu::AddressSpace& as, shadowmmu::Shadow& shadow, cpu::Vcpu& v, TcRequests& tc)
      : as_(as), shadow_(shadow), v_(v), tc_(tc) {}
  void paging_changed(uint32_t old_cr0, uint32_t old_cr4) override {
    const uint32_t cr0_changed = old_cr0 ^ v_.cr0, cr4_changed = old_cr4 ^ v_.cr4;
    if (cr0_changed & (cpu::cr0::PG | cpu::cr0::PE)) {
      const bool was = old_cr0 & cpu::cr0::PG;
      host_call([&] {
        // Turned off, the shadow's mappings go too: the identity map replaces only RAM's
        // range, and above it the guest must find what is at those physical addresses.
        if (v_.paging() || was) shadow_.reset();
        if (!v_.paging() && was) as_.map_identity();
      });
      flush();
      return;
    }
    if (!v_.paging()) return;  // nothing is mapped through the guest's tables
    // Translations are keyed by guest-physical page and stay; mappings made under other rules
    // (WP, PSE) go. A CR4.PGE toggle is the guest's global TLB flush: with page-table traces
    // every non-global mapping already follows the current tables, so only global ones (which
    // may come from another directory) can be stale.
    if ((cr0_changed & cpu::cr0::WP) || (cr4_changed & cpu::cr4::PSE)) {
      host_call([&] { shadow_.drop_all(); });
    } else if (cr4_changed & cpu::cr4::PGE) {
      host_call([&] { shadow_.drop_globals(); });
    }
    unlink();
  }
  // Translations are keyed by guest-physical page and stay; the chains between them encode
  // the old mappings and go.
  void cr3_written(uint32_t old_cr3) override {
    if (!v_.paging()) return;
    host_call([&] { shadow_.cr3_written(old_cr3); });
    tc_.unlink_nonglobal = true;  // global translations survive, as in the TLB
    v_.pending.async = 1;
  }
  void invlpg(uint32_t linear) override {
    if (!v_.paging()) return;
    host_call([&] { shadow_.invlpg(linear); });
    tc_.unlink_pages.push_back(linear);
    v_.pending.async = 1;
  }
  void ferr() override { on_ferr(); }
  std::function<void()> on_ferr;  // x87_ferr.h, once the devices exist
  void entered_outer_ring(uint8_t cpl) override {
    if (cpl == 3 && v_.paging()) host_call([&] { shadow_.entering_user(); });
  }
  void entered_inner_ring(uint8_t) override {
    if (v_.paging()) host_call([&] { shadow_.entering_kernel(); });
  }

 private:
  // The hooks run inside callouts, where only cpu::Unsupported may leave (it stops the VM with
  // its message); a host mapping call failing in some unforeseen way must do the same rather
  // than unwind through translated code.
  template <class F>
  static void host_call(F&& f) {
    try {
      f();
    } catch (const shadowmmu::Error& e) {
      throw cpu::Unsupported{std::string("host mapping failed: ") + e.what()};
    }
  }
  // Both wait for the loop: the unit that made the callout is still running. Chained units
  // check the pending word at entry, so none runs before the loop has done it.
  void flush() {
    tc_.flush = true;
    v_.pending.async = 1;
  }
  void unlink() {
    tc_.unlink_all = true;
    v_.pending.async = 1;
  }
  shadowmmu::AddressSpace& as_;
  shadowmmu::Shadow& shadow_;
  cpu::Vcpu& v_;
  TcRequests& tc_;
};

// Guest code bytes, read from the physmap: at linear = physical with paging off, through the
// guest's page tables with it on (a fetch the guest does not allow is its #PF).
class GuestCode final : public bt::CodeSource {
 public:
  GuestCode(shadowmmu::AddressSpace& as, shadowmmu::Shadow& shadow, shadowmmu::CodeTraces& traces,
            const cpu::Vcpu& v)
      : as_(as), shadow_(shadow), traces_(traces), v_(v) {}
  const uint8_t* code(uint32_t linear, uint32_t& avail) override {
    auto phys = shadow_.phys_of(linear, false, v_.cpl == 3);
    if (!phys) return nullptr;
    const uint32_t pa = *phys;
    const uint8_t* p = as_.phys(pa, 1);
    if (!p) {
      // Unassigned memory fetches as all ones (ff ff: an undefined opcode, #UD), as on a PC.
      if (!all_ones_at || !all_ones_at(pa)) return nullptr;
      avail = 4096 - (pa & 4095);
      return kAllOnes.data() + (pa & 4095);
    }
    if (tracing) traces_.note_translated(pa);
    avail = uint32_t(std::min<uint64_t>(4096 - (pa & 4095), as_.ram_size() - pa));
    return p;
  }
  uint32_t phys_page(uint32_t linear) override {
    if (!v_.paging()) return linear >> 12;
    // Not fetchable: the dispatcher raises the fault before any lookup matters.
    return shadow_.phys_of(linear, false, v_.cpl == 3).value_or(0) >> 12;
  }
  bool global(uint32_t linear) override {
    if (!v_.paging()) return false;
    auto r = shadow_.translate(linear, false, v_.cpl == 3);
    auto* t = std::get_if<shadowmmu::Translation>(&r);
    return t && t->global;
  }
  bool tracing = true;  // off while one instruction runs untraced (it may rewrite its code)
  // Whether guest-physical `pa` outside RAM fetches as all ones (no device, no --strict-memory).
  std::function<bool(uint32_t pa)> all_ones_at;

  std::optional<cpu::Fault> fetch_fault(uint32_t linear) override {
    if (!v_.paging()) return std::nullopt;
    auto r = shadow_.translate(linear, false, v_.cpl == 3);
    if (auto* err = std::get_if<uint32_t>(&r)) return cpu::Fault{cpu::kPF, true, *err, linear};
    return std::nullopt;
  }

 private:
  shadowmmu::AddressSpace& as_;
  shadowmmu::Shadow& shadow_;
  shadowmmu::CodeTraces& traces_;
  const cpu::Vcpu& v_;
  static constexpr std::array<uint8_t, 4096> kAllOnes = [] {
    std::array<uint8_t, 4096> a{};
    a.fill(0xff);
    return a;
  }();
};

void on_tick(int) {
  VirtualTimer::on_tick();
}

// The run's asynchronous signals, routed through the process's one signal owner so that they
// also cut directly executed guest code short; removed however the run ends.
class SignalScope {
 public:
  SignalScope() {
    hostexec::host_signals::add_async(SIGINT, on_interrupt);
    hostexec::host_signals::add_async(SIGTERM, on_interrupt);
    hostexec::host_signals::add_async(VirtualTimer::kSignal, on_tick);
  }
  ~SignalScope() {
    hostexec::host_signals::remove_async(VirtualTimer::kSignal);
    hostexec::host_signals::remove_async(SIGTERM);
    hostexec::host_signals::remove_async(SIGINT);
  }
  SignalScope(const SignalScope&) = delete;
  SignalScope& operator=(const SignalScope&) = delete;
};

uint64_t now_ns() {
  return devices::HostClock{}.now_ns();
}
}  // namespace

Machine::Machine(const Config& cfg)
    : cfg_(cfg),
      as_(cfg.mem_bytes),
      mem_(as_, vcpu_),
      direct_code_(as_, false),
      shadow_(as_, vcpu_),
      traces_(as_, shadow_, vcpu_),
      mmio_(as_, shadow_, mem_, vcpu_) {
  // Each callback runs inside a port access: it records, and makes translated code leave at the
  // next unit entry (the port-out callout leaves at once when pending is set).
  DeviceEvents events;
  events.exit = [this](int status) {
    exit_status_ = status;
    vcpu_.pending.async = 1;
  };
  events.reset = [this](const char* by) {
    reset_requested_ = by;
    vcpu_.pending.async = 1;
  };
  events.intr = [this](bool level) { vcpu_.set_irq_line(level); };
  events.sleep = [this](uint8_t slp_typ) {
    if (slp_typ != devices::AcpiPm::kSlpTypS5)
      throw cpu::Unsupported{fmt::format("ACPI sleep type {} (the DSDT offers only S5)", slp_typ)};
    exit_status_ = kExitPowerOff;
    vcpu_.pending.async = 1;
  };
  dev_ = make_devices(as_.ram_size(), std::move(events));
  dev_->pit.set_lost_ticks(cfg.lost_ticks);
  mmio_bus_ = make_mmio_handler(*dev_, cfg.strict_memory);
  as_.set_mmio(mmio_bus_.get());
  ports_ = make_port_bus(
      *dev_,
      [this] {
        if (events_ && events_->timer_outdated()) vcpu_.pending.async = 1;
      },
      [this] {
        if (events_) events_->pic_read();
      });
  auto hooks = std::make_unique<Hooks>(as_, shadow_, vcpu_, tc_);
  x87_ferr_ = std::make_unique<X87Ferr>(vcpu_, dev_->ferr);
  hooks->on_ferr = [this] { x87_ferr_->error(); };
  hooks_ = std::move(hooks);
  cpu_ = std::make_unique<cpu::Cpu>(vcpu_, mem_, *ports_, *hooks_, *cfg_.cpu_model);
  auto code = std::make_unique<GuestCode>(as_, shadow_, traces_, vcpu_);
  if (!cfg.strict_memory)
    code->all_ones_at = [this](uint32_t pa) { return !dev_->mmio.claimed(pa); };
  code_ = std::move(code);
  mem_.set_code_traces(&traces_);
  mem_.set_shadow(&shadow_);
  open_tc_tools();
}

Machine::~Machine() {
  g_vcpu = nullptr;
  if (stats_out_ && stats_out_ != stderr) std::fclose(stats_out_);
}

int Machine::stop(const std::string& reason) {
  print_state_report(reason, vcpu_, as_);
  return kExitVmStopped;
}

int Machine::run() {
  boot_kernel({cfg_.kernel, cfg_.append, cfg_.initrd}, as_, *cpu_, vcpu_);
  as_.map_identity();
  bt::Options opt = cfg_.engine;
  opt.count_entries = cfg_.tools.count_insns;
  engine_ = std::make_unique<bt::Engine>(*cpu_, *code_, opt);
  if (unit_tools_->active())
    engine_->set_unit_observer([this](const bt::UnitRecord& u) { unit_tools_->on_unit(u); });
  // Page-table writers and MMIO accessors (mmio_access.h) share the redirection.
  auto insn_phys = [this](uint32_t eip) {
    return guest_phys(vcpu_.seg[cpu::CS].base + eip, false);
  };
  engine_->set_write_watch({
      [this, insn_phys](uint32_t eip) {
        auto phys = insn_phys(eip);
        return phys && (table_writers_.count(*phys) > 0 || mmio_.knows(*phys));
      },
      [this](uint32_t linear, unsigned bytes, unsigned access) {
        return watched_access(linear, bytes, access);
      },
      [this] {
        mmio_.end();
        shadow_.table_write_end();
      },
      // No `must`: a known instruction of another form is translated as usual, faults there
      // again and is taken by unredirected_access.
      {},
  });
  setup_direct_execution();

  g_vcpu = &vcpu_;
  int status;
  {
    SignalScope signals;
    sigemptyset(&wake_signals_);
    for (int s : {SIGINT, SIGTERM, VirtualTimer::kSignal}) sigaddset(&wake_signals_, s);
    // Made here, on the thread that runs the vCPU, after the engine set up the alternate stack.
    timer_ = std::make_unique<VirtualTimer>(vcpu_);
    events_ = std::make_unique<EventService>(vcpu_, *cpu_, dev_->pic, dev_->pit, *timer_);
    console_ = std::make_unique<ConsoleInput>(STDIN_FILENO);
    // No tick may arrive once the handler is gone: SIGALRM's default action kills the process.
    const uint64_t t0 = start_ns_ = now_ns();
    if (cfg_.tools.stats_interval > 0)
      next_snapshot_ns_ = t0 + uint64_t(cfg_.tools.stats_interval * 1e9);
    try {
      try {
        status = loop();
      } catch (const cpu::Unsupported& u) {  // e.g. --strict-memory in a monitor access
        status = stop("unsupported: " + u.what);
      }
      wall_ns_ = now_ns() - t0;
    } catch (...) {
      events_.reset();
      timer_.reset();
      console_.reset();
      throw;
    }
    timer_->disarm();
    // The terminal as it was, before the statistics and before SIGINT/SIGTERM end bt86 at once
    // again (interrupt_exit.h).
    console_.reset();
  }
  g_vcpu = nullptr;
  std::fflush(stdout);
  unit_tools_->flush();
  if (cfg_.stats) print_stats();
  return status;
}

std::optional<int> Machine::finished() {
  if (exit_status_) return *exit_status_;
  if (reset_requested_) {
    std::fflush(stdout);
    std::fprintf(stderr, "bt86: guest requested a reset (%s)\n", reset_requested_);
    return kExitGuestReset;
  }
  if (g_interrupted) {
    std::fflush(stdout);
    std::fputs("bt86: interrupted\n", stderr);
    return kExitInterrupted;
  }
  if (console_ && console_->quit_requested()) {
    std::fflush(stdout);
    std::fputs("\r\nbt86: left with Ctrl-A x\n", stderr);
    return kExitInterrupted;
  }
  return std::nullopt;
}

std::optional<int> Machine::take_events() {
  if (console_) console_->pump(dev_->uart);
  if (auto status = finished()) return status;
  try {
    events_->service();
  } catch (const cpu::Unsupported& u) {
    return stop("unsupported: " + u.what);
  }
  shadow_step_ = events_->held_by_shadow();
  if (cpu_->shutdown()) return stop(cpu_->shutdown_reason());
  return std::nullopt;
}

std::optional<int> Machine::halt() {
  InterruptStats& st = events_->stats();
  ++st.halts;
  for (;;) {
    if (auto status = take_events()) return status;
    if (!vcpu_.halted) return std::nullopt;  // an interrupt was delivered
    if (!vcpu_.if_flag)
      return stop(dev_->ferr.ferr() ? "guest halted with interrupts disabled (cli; hlt, or an x87 "
                                      "error with CR0.NE = 0 waiting for IRQ 13)"
                                    : "guest halted with interrupts disabled (cli; hlt)");
    const auto deadline = events_->armed_deadline();
    // Console input wakes the guest only if its UART raises the receive interrupt.
    const int input = console_ && (dev_->uart.state().ier & 1) ? console_->wake_fd() : -1;
    if (!deadline && input < 0)
      return stop(
          "guest halted waiting for an interrupt, and no device will raise one (the "
          "timer is not running)");
    st.slept_ns +=
        sleep_until_event(deadline.value_or(~0ull), &vcpu_.pending.async, wake_signals_, input);
    ++st.sleeps;
    if (auto status = finished()) return status;
  }
}

void Machine::setup_direct_execution() {
  if (!cfg_.direct) {
    direct_off_reason_ = "off (--no-direct or --tc translate-user=on)";
    return;
  }
  try {
    de_ = std::make_unique<hostexec::DirectExec>(*cpu_, as_, cfg_.de_approve_maps);
    de_->set_window_resync([this] { shadow_.reset(); });
    // One confined process per recent address space: a CR3 switch back needs no host call.
    de_->set_shadow(&shadow_);
    shadow_.set_process_per_space(true);
  } catch (const std::runtime_error& e) {
    // Hosts without compat mode still run every guest, with user code translated.
    direct_off_reason_ = std::string("unavailable: ") + e.what();
    return;
  }
  mem_.set_direct_code(&direct_code_);
  // Directly executed ring-3 code runs in the confined process's window, which holds only what
  // ring 3 may use: the monitor's own window parks supervisor pages only when ring-3 code runs
  // translated in it (translated_user()).
  shadow_.set_lazy_parking(true);
  // Translated ring-3 code hands back to direct execution wherever that may run, and to the
  // loop when it would run in ring 3 with parking still owed (after an iret in translated
  // ring-0 code): the loop parks before the engine goes on.
  engine_->set_yield_check(
      [this](uint32_t eip) { return vcpu_.cpl == 3 && (runs_direct(eip) || shadow_.park_owed()); });
}

void Machine::translated_user() {
  if (vcpu_.cpl != 3 || !vcpu_.paging()) return;
  try {
    shadow_.translated_user();
  } catch (const shadowmmu::Error& e) {
    throw cpu::Unsupported{std::string("host mapping failed: ") + e.what()};
  }
}

std::optional<uint32_t> Machine::guest_phys(uint32_t linear, bool write) {
  return shadow_.phys_of(linear, write, vcpu_.cpl == 3);
}

bool Machine::runs_direct(uint32_t eip) {
  if (!de_ || !de_->eligible()) return false;
  // Code the guest may not fetch goes to the translator, which raises the #PF.
  auto phys = guest_phys(vcpu_.seg[cpu::CS].base + eip, false);
  return phys && direct_code_.state(*phys) != shadowmmu::DirectCode::State::Translate;
}

// A write by an instruction that wrote page tables before: it goes to the physmap (no host
// page-table change, which is what a host fault or an mprotect costs), with the entries it
// may change copied first. Anything unusual — a guest fault, code or directly executed pages,
// no RAM, a page boundary inside the operand — takes the window, and the ordinary paths.
std::optional<uint64_t> Machine::watched_write(uint32_t linear, unsigned bytes) {
  if (!vcpu_.paging() || !bytes || (linear & 0xfff) + bytes > 4096) return std::nullopt;
  auto walked = shadow_.translate(linear, true, vcpu_.cpl == 3);
  auto* t = std::get_if<shadowmmu::Translation>(&walked);
  if (!t) return std::nullopt;
  constexpr uint8_t kSeen = shadowmmu::AddressSpace::kTraced | shadowmmu::AddressSpace::kDirect;
  uint8_t* host = as_.phys(t->phys, bytes);
  if (!host || (as_.page_flags(t->phys) & kSeen)) return std::nullopt;
  shadow_.table_write_watched(t->phys, bytes);
  return reinterpret_cast<uint64_t>(host);
}

bt::WatchedAccess Machine::watched_access(uint32_t linear, unsigned bytes, unsigned access) {
  if (auto m = mmio_.begin(linear, bytes, access)) return *m;
  bt::WatchedAccess w;
  if (access & bt::kWatchWrite) {
    if (auto host = watched_write(linear, bytes)) {
      w.kind = bt::WatchedAccess::Kind::Host;
      w.host = *host;
    }
  }
  return w;
}

std::optional<int> Machine::mmio_fault(uint32_t linear, bool write, bool from_translated) {
  auto at = guest_phys(vcpu_.seg[cpu::CS].base + vcpu_.eip, false);
  // Directly executed code meets a known instruction again: its translation redirects it.
  if (at && !from_translated && mmio_.knows(*at)) {
    translate_next_ = true;
    return std::nullopt;
  }
  if (!at)
    return stop(fmt::format(
        "guest {} at {:#010x} (no RAM there: MMIO) from an instruction bt86 could not redirect",
        write ? "write" : "read", linear));
  if (!mmio_.learn(*at)) return unredirected_access(linear, write);
  // Its translations go; the next one redirects it (called from the loop: safe to drop).
  engine_->invalidate_frame(*at >> 12);
  translate_next_ = true;
  return std::nullopt;
}

std::optional<int> Machine::unredirected_access(uint32_t linear, bool write) {
  // The guest allowed the access (shadow_fault raised its #PF otherwise).
  const uint32_t pa = vcpu_.paging() ? guest_phys(linear, write).value_or(linear) : linear;
  const char* what = write ? "write" : "read";
  if (dev_->mmio.claimed(pa))
    return stop(fmt::format(
        "unsupported MMIO access form: a guest {} at {:#010x} (physical {:#010x}, device {}) by "
        "an instruction bt86 can only run on RAM or unassigned memory (push/pop, x87, string "
        "and the other forms whose access is not exactly one operand)",
        what, linear, pa, dev_->mmio.device_at(pa).name()));
  if (cfg_.strict_memory)
    return stop(fmt::format(
        "unsupported: --strict-memory: guest {} at physical {:#010x}, where there is neither "
        "RAM nor a device",
        what, pa));
  if (!unassigned_.map(linear, write))
    return stop(
        fmt::format("guest {} at {:#010x} (physical {:#010x}, unassigned): the host "
                    "refused the page of all ones for it, or it faulted there again",
                    what, linear, pa));
  unassigned_step_ = true;
  return std::nullopt;
}

std::optional<int> Machine::shadow_fault(uint32_t linear, bool write, bool from_translated) {
  const bool user = vcpu_.cpl == 3;
  const auto walked = shadow_.translate(linear, write, user);
  // The guest-physical address of the faulting instruction (the writer).
  auto writer = [&] { return guest_phys(vcpu_.seg[cpu::CS].base + vcpu_.eip, false); };
  if (write) {
    if (auto* t = std::get_if<shadowmmu::Translation>(&walked)) {
      // A write the guest allows to a page translations were made from: untrace it, and run a
      // translated writer alone (it may rewrite the code that follows it).
      if (traces_.on_write(t->phys) && from_translated) single_next_ = true;
      // A page that runs directly is mapped execute-only-and-read wherever it is mapped.
      if (de_ && direct_code_.state(t->phys) == shadowmmu::DirectCode::State::Direct) {
        auto at = writer();
        direct_code_.on_write(t->phys, at && !from_translated ? *at : ~0u);
        shadow_.protect_phys(t->phys);
      }
    }
  }
  // Not from translated code: from direct execution, in its process's window.
  auto fill = shadow_.fill(linear, user, walked, !from_translated);
  switch (fill.outcome) {
    case shadowmmu::Shadow::Outcome::Mapped:
      // A write to a traced page table: the monitor runs the writer alone (either engine's
      // code, translated for that one instruction) and drops what the entries it changed made.
      if (write && shadow_.is_table(fill.phys)) {
        table_write_ = linear;
        // Translated writers are translated again, watched (see WriteWatch): the units that
        // hold one start in its frame. Called from the loop, not from a unit: safe to drop.
        auto at = from_translated ? writer() : std::nullopt;
        if (at && table_writers_.insert(*at).second) engine_->invalidate_frame(*at >> 12);
      }
      return std::nullopt;
    case shadowmmu::Shadow::Outcome::GuestFault:
      try {
        cpu_->raise(cpu::Fault{cpu::kPF, true, fill.error, linear});
      } catch (const cpu::Unsupported& u) {
        return stop("unsupported: " + u.what);
      }
      if (cpu_->shutdown()) return stop(cpu_->shutdown_reason());
      return std::nullopt;
    case shadowmmu::Shadow::Outcome::NoRam:
      break;
  }
  return mmio_fault(linear, write, from_translated);
}

// Direct execution under guest paging: every host fault first goes through the shadow.
std::optional<int> Machine::direct_paging_fault(const hostexec::DirectExec::Exit& x) {
  using K = hostexec::DirectExec::Exit::Kind;
  if (x.kind == K::CodeFetch) {
    auto phys = guest_phys(x.address, false);
    if (!phys) return shadow_fault(x.address, false, false);  // the guest's #PF
    if (direct_code_.on_fetch(*phys) == shadowmmu::DirectCode::State::Direct)
      return shadow_fault(x.address, false, false);  // maps it executable
    return std::nullopt;                             // left to the translator
  }
  return shadow_fault(x.address, x.kind == K::CodeWrite || x.write, false);
}

std::optional<int> Machine::run_direct() {
  hostexec::DirectExec::Exit x;
  try {
    x = de_->run();
  } catch (const cpu::Unsupported& u) {
    return stop("unsupported: " + u.what);
  } catch (const std::logic_error& e) {
    return stop(std::string("internal error in direct execution: ") + e.what());
  }
  if (auto status = finished()) return status;
  using K = hostexec::DirectExec::Exit::Kind;
  switch (x.kind) {
    case K::Continue:
      if (cpu_->shutdown()) return stop(cpu_->shutdown_reason());
      break;
    case K::Event:
      return take_events();
    case K::Translate:
      translate_next_ = true;
      break;
    case K::CodeFetch:
      if (vcpu_.paging()) return direct_paging_fault(x);
      direct_code_.on_fetch(x.address);
      break;
    case K::CodeWrite: {
      if (vcpu_.paging()) return direct_paging_fault(x);
      // Directly executed code writes no translations of its own: the write just goes again.
      const bool traced = traces_.on_write(x.address);
      const bool direct = direct_code_.on_write(x.address, vcpu_.seg[cpu::CS].base + vcpu_.eip);
      if (!traced && !direct)
        return stop(fmt::format("user write at {:#010x} refused by the host", x.address));
      break;
    }
    case K::MemoryFault:
      if (vcpu_.paging()) return direct_paging_fault(x);
      if (mmio_.redirected(x.address)) return mmio_fault(x.address, x.write, false);
      return stop(fmt::format("guest user {} at {:#010x}, where there is no RAM (paging off)",
                              x.write ? "write" : "access", x.address));
    case K::Unsupported:
      return stop("unsupported: " + x.what);
    case K::Escape:
      return stop("security: " + x.what);
  }
  return std::nullopt;
}

// One instruction alone: untraced if it writes translated code (it may rewrite what follows
// it), with a traced page table writable if it writes one. Whatever the outcome (it may not
// even start, for a pending event), the page is read-only again afterwards; an instruction
// that did not complete faults again and comes back here.
bt::RunExit Machine::run_single() {
  auto& code = static_cast<GuestCode&>(*code_);
  if (table_write_) shadow_.table_write_begin(*table_write_);
  code.tracing = !single_next_;
  // However it ends (an exception stops the VM): tracing on, the table closed. An untraced
  // one-instruction unit has a key no lookup uses: it cannot run again.
  struct Done {
    Machine& m;
    GuestCode& code;
    ~Done() {
      code.tracing = true;
      m.shadow_.table_write_end();
      m.mmio_.abandon();
      m.table_write_.reset();
      m.single_next_ = false;
    }
  } done{*this, code};
  return engine_->run_single(code.tracing);
}

// What the last run asked of the translation cache (tc_), and the translations of written code
// frames (by the guest, or by the monitor's own writes), done before the next run.
void Machine::apply_tc_requests() {
  for (uint32_t frame : traces_.take_written()) engine_->invalidate_frame(frame);
  if (tc_.flush) {
    engine_->flush();
  } else if (tc_.unlink_all) {
    engine_->unlink();
  } else {
    if (tc_.unlink_nonglobal) engine_->unlink_nonglobal();
    for (uint32_t page : tc_.unlink_pages) engine_->unlink_page(page);
  }
  tc_ = {};
}

std::optional<int> Machine::run_translated(bool single, bool ignne_step, bt::RunExit& x) {
  const uint64_t t0 = now_ns();
  try {
    translated_user();
    if (single) {
      x = run_single();
    } else {
      x = engine_->run(translate_next_);
      shadow_.table_write_end();  // a watched write that faulted left its table open
      mmio_.abandon();            // ... or its MMIO operand
    }
  } catch (const cpu::Unsupported& u) {
    return stop("unsupported: " + u.what);
  }
  if (ignne_step) x87_ferr_->after_step();
  bt_ns_ += now_ns() - t0;
  translate_next_ = false;
  unassigned_step_ = false;
  if (shadow_step_) {
    // The shadowed instruction ran (or faulted): the interrupt it held back is due now.
    shadow_step_ = false;
    vcpu_.pending.async = 1;
  }
  return std::nullopt;
}

std::optional<int> Machine::guest_exception(const bt::RunExit& x) {
  try {
    if (x.software)
      cpu_->software_interrupt(x.fault.vector, x.next_eip, true);
    else if (x.fault.vector == cpu::kMF)
      cpu_->x87_error();  // #MF, or FERR# with CR0.NE = 0
    else
      cpu_->raise(x.fault);
  } catch (const cpu::Unsupported& u) {
    return stop("unsupported: " + u.what);
  }
  if (cpu_->shutdown()) return stop(cpu_->shutdown_reason());
  return std::nullopt;
}

std::optional<int> Machine::translated_memory_fault(const bt::RunExit& x) {
  if (vcpu_.paging()) return shadow_fault(x.address, x.write, true);
  // Translated code wrote to code it was translated from: see CodeTraces.
  if (x.write && traces_.on_write(x.address)) {
    single_next_ = true;
    if (de_) direct_code_.on_write(x.address, ~0u);
    return std::nullopt;
  }
  // Translated code wrote to a page cleared for direct execution: it becomes writable.
  if (x.write && de_ && direct_code_.on_write(x.address, ~0u)) return std::nullopt;
  if (mmio_.redirected(x.address)) return mmio_fault(x.address, x.write, true);
  return stop(fmt::format("guest {} at {:#010x}, where there is no RAM (paging off)",
                          x.write ? "write" : "access", x.address));
}

std::optional<int> Machine::after_translated(const bt::RunExit& x) {
  using K = bt::RunExit::Kind;
  switch (x.kind) {
    case K::Event:
      return take_events();
    case K::Halt:
      return halt();
    case K::Exception:
      return guest_exception(x);
    case K::MemoryFault:
      return translated_memory_fault(x);
    case K::Unsupported:
      return stop("unsupported: " + x.what);
    case K::Stop:
      return stop("stop address reached");
    case K::Yield:  // ring-3 code that may run directly again
      break;
  }
  return std::nullopt;
}

int Machine::loop() {
  for (;;) {
    // The instruction that ran with unassigned memory as all ones completed (unassigned_pages.h).
    if (!unassigned_step_ && !unassigned_.empty() && !unassigned_.clear())
      return stop("the host refused to unmap a page of all ones (its mapping limit)");
    if (next_snapshot_ns_ && now_ns() >= next_snapshot_ns_) snapshot_stats();
    apply_tc_requests();
    x87_ferr_->follow();
    if (vcpu_.halted) {  // an x87 error with CR0.NE = 0 froze the CPU (x87_ferr.h)
      if (auto status = halt()) return *status;
      continue;
    }
    const bool ignne_step = x87_ferr_->step_alone();
    const bool single =
        single_next_ || table_write_ || shadow_step_ || ignne_step || unassigned_step_;
    if (!single && !translate_next_ && runs_direct(vcpu_.eip)) {
      if (auto status = run_direct()) return *status;
      continue;
    }
    bt::RunExit x;
    if (auto status = run_translated(single, ignne_step, x)) return *status;
    if (auto status = finished()) return *status;
    if (auto status = after_translated(x)) return *status;
  }
}

void Machine::print_stats() const {
  if (cfg_.tools.stats_json) {
    std::fprintf(stats_out_, "%s\n", stats_json("final").c_str());
    std::fflush(stats_out_);
    return;
  }
  std::string s = "bt86 statistics\n";
  s += engine_ ? engine_->stats().report() + engine_->entry_counts(5).report()
               : "(the guest never ran)\n";
  s += devices_report(*dev_);
  s += fmt::format(
      "  instructions redirected to MMIO {}\n  MMIO operand accesses {}\n  unassigned pages "
      "mapped as all ones for one instruction {}\n",
      mmio_.stats().instructions, mmio_.stats().accesses, unassigned_.steps());
  if (events_) s += events_->stats().report(VirtualTimer::ticks());
  if (de_) {
    s += de_->stats().report();
    s += direct_code_.stats().report();
  } else {
    s += "direct execution\n  " + direct_off_reason_ + "\n";
  }
  s += shadow_.stats().report();
  s += as_.host_calls().report();
  s += traces_.stats().report();
  s += time_split();
  std::fputs(s.c_str(), stderr);
}

std::string Machine::time_split() const {
  // Wall time of the run loop, split by where the host CPU was: translated code (with its
  // translation and callouts), directly executed guest code (with the host's trap and signal
  // delivery), asleep in hlt, and the monitor (event delivery, devices, exit handling).
  const uint64_t de_ns = de_ ? de_->stats().ns_in_guest : 0;
  const uint64_t slept = events_ ? events_->stats().slept_ns : 0;
  const uint64_t accounted = bt_ns_ + de_ns + slept;
  const uint64_t monitor_ns = wall_ns_ > accounted ? wall_ns_ - accounted : 0;
  auto pct = [&](uint64_t ns) { return wall_ns_ ? 100.0 * double(ns) / double(wall_ns_) : 0.0; };
  return fmt::format(
      "time\n  wall {:.3f} s\n  translated code {:.3f} s ({:.1f}%)\n  direct execution {:.3f} s "
      "({:.1f}%)\n  asleep in hlt {:.3f} s ({:.1f}%)\n  monitor {:.3f} s ({:.1f}%)\n",
      double(wall_ns_) / 1e9, double(bt_ns_) / 1e9, pct(bt_ns_), double(de_ns) / 1e9, pct(de_ns),
      double(slept) / 1e9, pct(slept), double(monitor_ns) / 1e9, pct(monitor_ns));
}

}  // namespace monitor
