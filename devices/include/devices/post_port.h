// Port 0x80, where firmware and kernels write POST codes (and Linux writes to delay I/O).
#pragma once

#include <cstdint>

#include "devices/io_bus.h"

namespace devices {

class PostPort final : public PortDevice {
 public:
  static constexpr uint16_t kPort = 0x80;

  struct State {
    uint8_t last = 0;
    uint64_t writes = 0;
  };

  const char* name() const override { return "post-port"; }
  uint32_t in(uint16_t port, unsigned size) override;
  void out(uint16_t port, unsigned size, uint32_t value) override;

  const State& state() const { return s_; }

 private:
  State s_;
};

}  // namespace devices
