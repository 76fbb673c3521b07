// Test doubles for the devices' interfaces.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "devices/char_sink.h"
#include "devices/clock.h"
#include "devices/irq_line.h"

namespace devices::testing {

// Records the level of each line and counts rising edges.
class FakeIrqLine final : public IrqLine {
 public:
  void set_level(unsigned irq, bool level) override {
    if (level && !levels[irq]) ++rising_edges[irq];
    levels[irq] = level;
    ++calls;
  }
  std::array<bool, 16> levels{};
  std::array<unsigned, 16> rising_edges{};
  unsigned calls = 0;
};

class StringSink final : public CharSink {
 public:
  void put(uint8_t byte) override { text.push_back(char(byte)); }
  std::string text;
};

class FakeClock final : public Clock {
 public:
  uint64_t now_ns() override { return ns; }
  uint64_t ns = 1'000'000'000;  // not zero, so nothing relies on time starting at 0
};

class FakeWallClock final : public WallClock {
 public:
  explicit FakeWallClock(int64_t at = 0) : seconds(at) {}
  int64_t now_utc_seconds() override { return seconds; }
  int64_t seconds = 0;
};

}  // namespace devices::testing
