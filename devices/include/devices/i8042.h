// i8042 keyboard controller at 0x60 (data) / 0x64 (status, command), with a PS/2 keyboard that
// answers commands but has no keys yet, and no mouse on the aux port (bytes sent to it come back
// as a timeout, so a driver's mouse probe fails fast instead of waiting).
//
// The controller's output buffer is modelled as a queue: each byte read from 0x60 makes room
// for the next, with a fresh IRQ 1 (keyboard) or IRQ 12 (aux) edge when the command byte
// enables it. The disable bits of the command byte are kept but do not hold back replies.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>

#include "devices/a20_gate.h"
#include "devices/io_bus.h"
#include "devices/irq_line.h"

namespace devices {

class I8042 final : public PortDevice {
 public:
  static constexpr uint16_t kDataPort = 0x60;
  static constexpr uint16_t kCommandPort = 0x64;
  static constexpr unsigned kKeyboardIrq = 1;
  static constexpr unsigned kAuxIrq = 12;

  struct Output {
    uint8_t byte;
    uint8_t status;  // status-register bits that go with this byte: 0x20 aux, 0x40 timeout
  };

  struct State {
    std::array<uint8_t, 32> ram{};    // ram[0] is the command byte
    std::deque<Output> output;        // front() is in the output buffer
    uint8_t pending_command = 0;      // controller command waiting for its data byte
    uint8_t pending_kbd_command = 0;  // keyboard command waiting for its parameter
    bool last_write_was_command = false;
    uint8_t output_port = 0xcd;  // bits 0 (reset) and 1 (A20) are taken from the lines instead
    uint8_t last_data = 0;
    bool scanning = true;
    uint8_t leds = 0;
    uint8_t scancode_set = 2;
    bool irq1 = false;
    bool irq12 = false;
  };

  // on_reset: the guest pulsed the CPU reset line (command 0xFE, or output port bit 0 cleared).
  I8042(IrqLine& irq, A20Gate& a20, std::function<void()> on_reset);

  // Attaches 0x60 and 0x64 (0x61-0x63 belong to other devices).
  void attach_to(IoBus& bus);

  const char* name() const override { return "i8042"; }
  uint32_t in(uint16_t port, unsigned size) override;
  void out(uint16_t port, unsigned size, uint32_t value) override;

  const State& state() const { return s_; }

 private:
  uint8_t command_byte() const { return s_.ram[0]; }
  uint8_t status() const;
  uint8_t read_output_port() const;
  void write_output_port(uint8_t value);
  void queue(uint8_t byte, uint8_t status = 0);
  void controller_command(uint8_t command);
  void controller_data(uint8_t command, uint8_t value);
  void keyboard_write(uint8_t value);
  void update_irqs();

  IrqLine& irq_;
  A20Gate& a20_;
  std::function<void()> on_reset_;
  State s_;
};

}  // namespace devices
