// How a device drives an interrupt request line of the interrupt controller.
#pragma once

namespace devices {

class IrqLine {
 public:
  virtual ~IrqLine() = default;
  // The level of input irq (0-15 on the PC's PIC pair). Edge-triggered inputs latch a request on
  // a low-to-high change, so a device signals a new event with lower() followed by raise().
  virtual void set_level(unsigned irq, bool level) = 0;
  void raise(unsigned irq) { set_level(irq, true); }
  void lower(unsigned irq) { set_level(irq, false); }
  void pulse(unsigned irq) {
    set_level(irq, true);
    set_level(irq, false);
  }
};

}  // namespace devices
