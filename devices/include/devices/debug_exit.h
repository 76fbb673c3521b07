// QEMU's isa-debug-exit (iobase 0xf4, iosize 4): any write ends the VM with status
// (value << 1) | 1, so a guest can never report plain success (0) by accident.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "devices/io_bus.h"

namespace devices {

class DebugExit final : public PortDevice {
 public:
  static constexpr uint16_t kBase = 0xf4;
  static constexpr unsigned kPortCount = 4;

  struct State {
    std::optional<uint32_t> status;  // set once the guest has asked to exit
  };

  // on_exit receives (value << 1) | 1 computed in 32 bits; a process exit status keeps the low
  // 8 bits of it, as with QEMU.
  explicit DebugExit(std::function<void(uint32_t status)> on_exit);

  const char* name() const override { return "isa-debug-exit"; }
  unsigned access_width() const override { return 4; }
  uint32_t in(uint16_t port, unsigned size) override;
  void out(uint16_t port, unsigned size, uint32_t value) override;

  const State& state() const { return s_; }

 private:
  std::function<void(uint32_t)> on_exit_;
  State s_;
};

}  // namespace devices
