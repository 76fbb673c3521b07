#include "event_service.h"

#include <algorithm>

namespace monitor {

void EventService::service() {
  // Cleared before looking, so a tick that arrives meanwhile makes the engine come back.
  v_.pending.async = 0;
  signal_timer();
  const uint64_t now = pit_.clock().now_ns();
  pit_deadline_ = pit_.next_deadline_ns();
  // Periods still owed wait for the guest to take the one in IRR (below), not for a host timer.
  std::optional<uint64_t> next = pit_.next_edge_after_ns(now);

  bool take = v_.if_flag && v_.irq_line;
  held_by_shadow_ = take && v_.irq_shadow;
  if (held_by_shadow_) {
    // The instruction after sti / mov ss has not run yet (a unit ended right after it). The
    // request stays latched in the PIC; the caller runs that one instruction and asks again.
    take = false;
    v_.pending.irq = 0;
    ++stats_.shadow_deferrals;
  }
  // irq_shadow stays: the entry of the unit that runs the shadowed instruction clears it (and
  // interrupt delivery does). Clearing it here lost the shadow when a host timer signal made
  // that unit leave at its entry check, before the instruction: the next service() then
  // delivered the interrupt ahead of it (guest.irqwin, sti at a page end, ~3 runs in 100).
  rearm(next, now);
  if (!take) return;

  const uint8_t vector = pic_.acknowledge();
  const auto irq = irq_for_vector(pic_.state(), vector);
  stats_.record(vector, irq);
  // IRR is free again: a period the host made late queues up behind this one, so the guest
  // takes it as soon as it ends this one's handler (EOI) and enables interrupts.
  if (irq == devices::Pit8254::kIrq) signal_timer();
  cpu_.deliver_interrupt(vector);
}

void EventService::signal_timer() {
  if (!pic_.requested(devices::Pit8254::kIrq)) pit_.update();
  stats_.timer_delayed = pit_.lag().delayed;
  stats_.timer_merged = pit_.lag().merged;
}

void EventService::rearm(std::optional<uint64_t> deadline, uint64_t now) {
  if (!deadline) {
    if (armed_) timer_.disarm();
    armed_.reset();
    return;
  }
  armed_ = std::max(*deadline, now + kMinTimerGapNs);
  timer_.arm(*armed_);
}

}  // namespace monitor
