// What the run loop does when the vCPU leaves translated code for an event (a host timer tick,
// a raised interrupt line, a sti with one pending) or halts: bring the PIT up to date, aim the
// host timer at the next thing that can happen, and deliver an external interrupt if the vCPU
// takes one now. Timer periods the guest could not take in time (the host ran something else)
// are delivered one by one as it takes them, not merged (Pit8254::kMaxLagNs).
#pragma once

#include <cstdint>
#include <optional>

#include "cpu/cpu.h"
#include "devices/pic8259.h"
#include "devices/pit8254.h"
#include "host_timer.h"
#include "interrupt_stats.h"

namespace monitor {

class EventService {
 public:
  // A host timer signal costs the host 5-8 us (shared/HOST-MECHANISMS.md §5): with a PIT period
  // much shorter than that the guest would make no progress. Arming no closer than this keeps
  // it running; the periods in between are owed and delivered as the guest takes them.
  static constexpr uint64_t kMinTimerGapNs = 20'000;
  EventService(cpu::Vcpu& vcpu, cpu::Cpu& cpu, devices::Pic8259& pic, devices::Pit8254& pit,
               HostTimer& timer)
      : v_(vcpu), cpu_(cpu), pic_(pic), pit_(pit), timer_(timer) {}

  // Clears pending.async, updates the PIT (which may raise IRQ 0), re-arms the host timer, and
  // delivers one interrupt when IF is set, INTR is up and no shadow holds it back. Delivery
  // clears vcpu.halted; the caller checks cpu.shutdown() (an undeliverable interrupt escalates
  // like an exception) and handles cpu::Unsupported, which propagates.
  void service();
  // Whether the last service() held an interrupt back for the sti / mov ss shadow: the caller
  // runs exactly the one shadowed instruction and then services again.
  bool held_by_shadow() const { return held_by_shadow_; }

  // When the host timer will next fire, or nothing when no device event can wake the guest.
  std::optional<uint64_t> armed_deadline() const { return armed_; }
  // Whether the guest reprogrammed the PIT since the last service() so that the host timer is
  // aimed at the wrong time: a guest that spins with IF = 1 would otherwise never see a tick.
  bool timer_outdated() const { return pit_.next_deadline_ns() != pit_deadline_; }

  // The guest is about to read the master PIC's IRR or ISR: on the chip a PIT output edge sets
  // IRR at once, while here it waits for the host timer's signal. A due edge is sent now, so a
  // guest that watched a period pass on the PIT count with IF = 0 sees IRQ 0 requested.
  void pic_read() { signal_timer(); }

  InterruptStats& stats() { return stats_; }
  const InterruptStats& stats() const { return stats_; }

 private:
  void rearm(std::optional<uint64_t> deadline, uint64_t now);
  // Sends the PIC the PIT's next owed IRQ 0 edge unless one is still latched (it would merge).
  void signal_timer();

  cpu::Vcpu& v_;
  cpu::Cpu& cpu_;
  devices::Pic8259& pic_;
  devices::Pit8254& pit_;
  HostTimer& timer_;
  std::optional<uint64_t> armed_;
  std::optional<uint64_t> pit_deadline_;  // the PIT's next edge as of the last service()
  InterruptStats stats_;
  bool held_by_shadow_ = false;
};

}  // namespace monitor
