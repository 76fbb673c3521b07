// System control port A (0x92): "fast A20" in bit 1 and a CPU reset on a 0-to-1 write of bit 0.
#pragma once

#include <cstdint>
#include <functional>

#include "devices/a20_gate.h"
#include "devices/io_bus.h"

namespace devices {

class SystemPortA final : public PortDevice {
 public:
  static constexpr uint16_t kPort = 0x92;

  struct State {
    uint8_t value = 0;  // as last written; bit 1 reads back the A20 line instead
  };

  SystemPortA(A20Gate& a20, std::function<void()> on_reset);

  const char* name() const override { return "system-port-a"; }
  uint32_t in(uint16_t port, unsigned size) override;
  void out(uint16_t port, unsigned size, uint32_t value) override;

  const State& state() const { return s_; }

 private:
  A20Gate& a20_;
  std::function<void()> on_reset_;
  State s_;
};

}  // namespace devices
