// A one-shot alarm on the host's CLOCK_MONOTONIC that makes the vCPU leave translated code
// (VirtualTimer); an interface so the event logic can be tested without host signals.
#pragma once

#include <cstdint>

namespace monitor {

class HostTimer {
 public:
  virtual ~HostTimer() = default;
  // Absolute CLOCK_MONOTONIC nanoseconds; replaces any earlier arming. A past deadline fires at
  // once.
  virtual void arm(uint64_t deadline_ns) = 0;
  virtual void disarm() = 0;
};

}  // namespace monitor
