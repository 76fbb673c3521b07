// The PC chipset's half of x87 error reporting with CR0.NE = 0 (MS-DOS compatibility mode):
// the CPU's FERR# output sets a latch that drives IRQ 13; a write to port 0xF0 clears the latch
// (and the interrupt request) and, while FERR# is still asserted, asserts IGNNE# back to the
// CPU so that the x87 instruction it held can go on; IGNNE# drops when FERR# does (the error
// cleared). QEMU's hw/i386/pc.c (port 0xF0) and target/i386 (IGNNE) do the same.
#pragma once

#include <cstdint>

#include "devices/io_bus.h"
#include "devices/irq_line.h"

namespace devices {

class FerrLatch final : public PortDevice {
 public:
  static constexpr uint16_t kPort = 0xF0;
  static constexpr unsigned kIrq = 13;

  struct State {
    bool ferr = false;     // FERR# as the CPU drives it
    bool latched = false;  // the IRQ 13 request
    bool ignne = false;    // IGNNE# to the CPU
    uint64_t requests = 0;
  };

  explicit FerrLatch(IrqLine& irq) : irq_(irq) {}

  // FERR#: asserted when a waiting x87 instruction finds an unmasked exception pending,
  // deasserted when none is pending any more. Its rising edge sets the latch.
  void set_ferr(bool asserted);
  bool ignne() const { return s_.ignne; }
  bool ferr() const { return s_.ferr; }

  const char* name() const override { return "ferr-latch"; }
  uint32_t in(uint16_t port, unsigned size) override;
  void out(uint16_t port, unsigned size, uint32_t value) override;

  const State& state() const { return s_; }

 private:
  IrqLine& irq_;
  State s_;
};

}  // namespace devices
