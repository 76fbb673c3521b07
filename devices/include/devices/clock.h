// Time sources for the timer and the real-time clock; tests substitute fixed ones.
#pragma once

#include <cstdint>

namespace devices {

// Monotonic virtual time in nanoseconds (the PIT counts at 1193182 Hz of it).
class Clock {
 public:
  virtual ~Clock() = default;
  virtual uint64_t now_ns() = 0;
};

// The host's current UTC time in seconds since the Unix epoch (the RTC's time of day).
class WallClock {
 public:
  virtual ~WallClock() = default;
  virtual int64_t now_utc_seconds() = 0;
};

// CLOCK_MONOTONIC.
class HostClock final : public Clock {
 public:
  uint64_t now_ns() override;
};

// CLOCK_REALTIME.
class HostWallClock final : public WallClock {
 public:
  int64_t now_utc_seconds() override;
};

}  // namespace devices
