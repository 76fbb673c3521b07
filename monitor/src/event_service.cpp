#include "event_service.h"

#include <algorithm>

namespace monitor {

void EventService::service() {
  // Cleared before looking, so a tick that arrives meanwhile makes the engine come back.
  v_.pending.async = 0;
  pit_.update();
  const uint64_t now = pit_.clock().now_ns();
  pit_deadline_ = pit_.next_deadline_ns();
  std::optional<uint64_t> next = pit_deadline_;

  bool take = v_.if_flag && v_.irq_line;
  held_by_shadow_ = take && v_.irq_shadow;
  if (held_by_shadow_) {
    // The instruction after sti / mov ss has not run yet (a unit ended right after it). The
    // request stays latched in the PIC; the caller runs that one instruction and asks again.
    take = false;
    v_.pending.irq = 0;
    ++stats_.shadow_deferrals;
  }
  // Either the shadowed instruction runs next or it already has: nothing else ends the shadow.
  v_.irq_shadow = false;
  rearm(next, now);
  if (!take) return;

  const uint8_t vector = pic_.acknowledge();
  stats_.record(vector, irq_for_vector(pic_.state(), vector));
  cpu_.deliver_interrupt(vector);
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
