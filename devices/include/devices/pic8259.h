// The PC's 8259A pair: master at 0x20/0x21, slave at 0xa0/0xa1 cascaded on master input 2, and
// the edge/level control registers (ELCR) at 0x4d0/0x4d1. The behaviour follows QEMU's i8259,
// which Linux and the usual test kernels are known to work with.
#pragma once

#include <cstdint>
#include <functional>

#include "devices/io_bus.h"
#include "devices/irq_line.h"

namespace devices {

// One 8259A's registers and initialization progress.
struct PicChipState {
  uint8_t irr = 0;           // interrupt request register
  uint8_t isr = 0;           // in-service register
  uint8_t imr = 0;           // interrupt mask register (OCW1)
  uint8_t input_levels = 0;  // current level of each input, for edge detection
  uint8_t elcr = 0;          // 1 = level-triggered input
  uint8_t vector_base = 0;   // ICW2 & 0xf8
  uint8_t icw3 = 0;
  uint8_t priority_add = 0;  // the lowest-priority input plus one (rotation)
  uint8_t init_step = 0;     // 0: ready; 1, 2, 3: expecting ICW2, ICW3, ICW4
  bool icw4_needed = false;
  bool single = false;
  bool level_mode = false;  // ICW1.LTIM: all inputs level-triggered
  bool read_isr = false;    // OCW3 selects ISR (else IRR) for reads of the command port
  bool poll = false;        // OCW3 poll command pending: the next read is the poll byte
  bool special_mask = false;
  bool auto_eoi = false;
  bool rotate_on_auto_eoi = false;
  bool special_fully_nested = false;
  bool output = false;  // INT output level
};

class Pic8259 final : public PortDevice, public IrqLine {
 public:
  static constexpr uint16_t kMasterBase = 0x20;
  static constexpr uint16_t kSlaveBase = 0xa0;
  static constexpr uint16_t kElcrBase = 0x4d0;

  struct State {
    PicChipState master;
    PicChipState slave;
  };

  // Attaches 0x20-0x21, 0xa0-0xa1 and 0x4d0-0x4d1.
  void attach_to(IoBus& bus);

  const char* name() const override { return "pic8259"; }
  uint32_t in(uint16_t port, unsigned size) override;
  void out(uint16_t port, unsigned size, uint32_t value) override;

  // Inputs 0-15; 8-15 are the slave's. Input 2 is the cascade and is rerouted to 9, as the PC
  // wires the ISA IRQ 2 line. Throws std::out_of_range for irq > 15.
  void set_level(unsigned irq, bool level) override;

  // Whether input irq has a request latched in IRR (taken or not, masked or not): another edge
  // now would merge with it.
  bool requested(unsigned irq) const;
  // INTR as the CPU sees it.
  bool intr() const { return s_.master.output; }
  // The INTA cycle: returns the vector and moves the request from IRR to ISR. With nothing left
  // to deliver it returns the spurious vector (IRQ 7 of the master, or IRQ 15 of the slave).
  uint8_t acknowledge();
  // Called with the new INTR level whenever it changes.
  void set_intr_callback(std::function<void(bool)> callback) { on_intr_ = std::move(callback); }

  const State& state() const { return s_; }

 private:
  void refresh();  // propagates the slave's output to master input 2, then to INTR

  State s_;
  std::function<void(bool)> on_intr_;
};

}  // namespace devices
