// System control port B (0x61): PIT channel 2's gate and speaker enable, channel 2's output, and
// the DRAM refresh toggle that old delay loops poll.
#pragma once

#include <cstdint>

#include "devices/io_bus.h"
#include "devices/pit8254.h"

namespace devices {

class SystemPortB final : public PortDevice {
 public:
  static constexpr uint16_t kPort = 0x61;
  static constexpr uint64_t kRefreshPeriodNs = 15085;  // the refresh request toggles this often

  struct State {
    uint8_t control = 0;  // bits 0-3 as written: gate 2, speaker data, parity/channel checks
  };

  explicit SystemPortB(Pit8254& pit) : pit_(pit) {}

  const char* name() const override { return "system-port-b"; }
  uint32_t in(uint16_t port, unsigned size) override;
  void out(uint16_t port, unsigned size, uint32_t value) override;

  const State& state() const { return s_; }

 private:
  Pit8254& pit_;
  State s_;
};

}  // namespace devices
