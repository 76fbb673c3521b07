// The host timer behind the guest's PIT: a one-shot POSIX timer on CLOCK_MONOTONIC whose signal
// goes to the vCPU thread and only asks translated code to leave (pending.async), so the run
// loop can bring the PIT up to date and deliver IRQ 0.
//
// The signal is SIGALRM (as probed in shared/HOST-MECHANISMS.md §5); nothing else in bt86 uses
// it. Its handler is not installed here: the process's host-signal module (hostexec/host_signals.h)
// owns the disposition and calls on_tick(), because a handler that interrupts directly executed
// guest code must first restore the host FS base, and must then cut that code short.
#pragma once

#include <signal.h>
#include <time.h>

#include <atomic>
#include <cstdint>

#include "cpu/vcpu.h"
#include "host_timer.h"

namespace monitor {

class VirtualTimer final : public HostTimer {
 public:
  static constexpr int kSignal = SIGALRM;

  // Creates the timer, aimed at the calling thread (the one that runs the vCPU), disarmed.
  // Ticks set vcpu.pending.async. Throws std::system_error if the host refuses.
  explicit VirtualTimer(cpu::Vcpu& vcpu);
  ~VirtualTimer() override;
  VirtualTimer(const VirtualTimer&) = delete;
  VirtualTimer& operator=(const VirtualTimer&) = delete;

  void arm(uint64_t deadline_ns) override;
  void disarm() override;

  // What the kSignal handler calls. Async-signal-safe: stores bytes only.
  static void on_tick();
  // Signals received since the process started.
  static uint64_t ticks() { return ticks_.load(std::memory_order_relaxed); }

 private:
  void set(uint64_t deadline_ns);

  timer_t timer_{};
  static inline std::atomic<cpu::Vcpu*> target_{nullptr};
  static inline std::atomic<uint64_t> ticks_{0};
  static_assert(std::atomic<cpu::Vcpu*>::is_always_lock_free);
  static_assert(std::atomic<uint64_t>::is_always_lock_free);
};

}  // namespace monitor
