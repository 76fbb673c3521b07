#include "devices/i8042.h"

#include <utility>

namespace devices {
namespace {

constexpr uint8_t kStatusOutputFull = 0x01, kStatusSystem = 0x04, kStatusCommand = 0x08,
                  kStatusUnlocked = 0x10, kStatusAuxData = 0x20, kStatusTimeout = 0x40;

constexpr uint8_t kCtrKbdInt = 0x01, kCtrAuxInt = 0x02, kCtrSystem = 0x04, kCtrKbdDisable = 0x10,
                  kCtrAuxDisable = 0x20, kCtrTranslate = 0x40;

constexpr uint8_t kAck = 0xfa, kResend = 0xfe, kSelfTestPassed = 0xaa;

}  // namespace

I8042::I8042(IrqLine& irq, A20Gate& a20, std::function<void()> on_reset)
    : irq_(irq), a20_(a20), on_reset_(std::move(on_reset)) {
  // What a BIOS leaves: keyboard interrupt on, self-test passed, scan-code translation on.
  s_.ram[0] = kCtrKbdInt | kCtrSystem | kCtrTranslate;
}

void I8042::attach_to(IoBus& bus) {
  bus.attach(kDataPort, 1, *this);
  bus.attach(kCommandPort, 1, *this);
}

uint8_t I8042::status() const {
  uint8_t s = kStatusUnlocked;
  if (command_byte() & kCtrSystem) s |= kStatusSystem;
  if (s_.last_write_was_command) s |= kStatusCommand;
  if (!s_.output.empty()) s |= kStatusOutputFull | s_.output.front().status;
  return s;
}

uint8_t I8042::read_output_port() const {
  uint8_t v = uint8_t(s_.output_port & ~0x33);
  v |= 0x01;  // not in reset
  if (a20_.enabled()) v |= 0x02;
  if (!s_.output.empty()) v |= (s_.output.front().status & kStatusAuxData) ? 0x20 : 0x10;
  return v;
}

void I8042::write_output_port(uint8_t value) {
  s_.output_port = value;
  a20_.set(value & 0x02);
  if (!(value & 0x01) && on_reset_) on_reset_();
}

void I8042::queue(uint8_t byte, uint8_t status) {
  s_.output.push_back({byte, status});
  update_irqs();
}

void I8042::update_irqs() {
  bool kbd = false, aux = false;
  if (!s_.output.empty()) {
    const bool from_aux = s_.output.front().status & kStatusAuxData;
    kbd = !from_aux && (command_byte() & kCtrKbdInt);
    aux = from_aux && (command_byte() & kCtrAuxInt);
  }
  if (kbd != s_.irq1) irq_.set_level(kKeyboardIrq, s_.irq1 = kbd);
  if (aux != s_.irq12) irq_.set_level(kAuxIrq, s_.irq12 = aux);
}

void I8042::controller_command(uint8_t command) {
  if (command >= 0x20 && command < 0x40) {
    queue(s_.ram[command & 0x1f]);
    return;
  }
  if ((command >= 0x60 && command < 0x80) || command == 0xd1 || command == 0xd2 ||
      command == 0xd3 || command == 0xd4) {
    s_.pending_command = command;
    return;
  }
  if (command >= 0xf0) {
    // Pulse output lines: a low bit 0 is the CPU reset line.
    if (!(command & 0x01) && on_reset_) on_reset_();
    return;
  }
  switch (command) {
    case 0xa7:
      s_.ram[0] |= kCtrAuxDisable;
      break;
    case 0xa8:
      s_.ram[0] &= ~kCtrAuxDisable;
      break;
    case 0xa9:  // aux interface test: no error
    case 0xab:  // keyboard interface test: no error
      queue(0x00);
      break;
    case 0xaa:  // controller self-test
      queue(0x55);
      break;
    case 0xad:
      s_.ram[0] |= kCtrKbdDisable;
      break;
    case 0xae:
      s_.ram[0] &= ~kCtrKbdDisable;
      break;
    case 0xc0:  // input port: keyboard not inhibited
      queue(0x80);
      break;
    case 0xd0:
      queue(read_output_port());
      break;
    case 0xdd:
      a20_.set(false);
      break;
    case 0xdf:
      a20_.set(true);
      break;
    case 0xe0:  // test inputs
      queue(0x00);
      break;
    default:
      break;  // unknown commands are ignored, as most controllers do
  }
}

void I8042::controller_data(uint8_t command, uint8_t value) {
  if (command >= 0x60 && command < 0x80) {
    s_.ram[command & 0x1f] = value;
    update_irqs();
    return;
  }
  switch (command) {
    case 0xd1:
      write_output_port(value);
      break;
    case 0xd2:  // as if the keyboard sent it
      queue(value);
      break;
    case 0xd3:  // as if the aux device sent it
      queue(value, kStatusAuxData);
      break;
    case 0xd4:  // to the aux device, which is not there
      queue(kResend, kStatusAuxData | kStatusTimeout);
      break;
  }
}

void I8042::keyboard_write(uint8_t value) {
  // Talking to the keyboard re-enables its interface, as on QEMU.
  s_.ram[0] &= ~kCtrKbdDisable;
  // A byte in the command range starts a new command even when a parameter was expected.
  if (s_.pending_kbd_command && value < 0xed) {
    const uint8_t command = std::exchange(s_.pending_kbd_command, 0);
    queue(kAck);
    if (command == 0xed) s_.leds = value & 7;
    if (command == 0xf0) {
      if (value == 0)
        queue(s_.scancode_set);
      else if (value <= 3)
        s_.scancode_set = value;
    }
    return;
  }
  s_.pending_kbd_command = 0;
  switch (value) {
    case 0xed:  // set LEDs
    case 0xf0:  // get/set scan code set
    case 0xf3:  // set typematic rate
      s_.pending_kbd_command = value;
      queue(kAck);
      break;
    case 0xee:  // echo
      queue(0xee);
      break;
    case 0xf2:  // identify: an MF2 keyboard; its ID is translated when the controller translates
      queue(kAck);
      queue(0xab);
      queue((command_byte() & kCtrTranslate) ? 0x41 : 0x83);
      break;
    case 0xf4:
      s_.scanning = true;
      queue(kAck);
      break;
    case 0xf5:  // disable scanning and restore defaults
      s_.scanning = false;
      s_.leds = 0;
      queue(kAck);
      break;
    case 0xf6:
      s_.leds = 0;
      queue(kAck);
      break;
    case 0xf7:
    case 0xf8:
    case 0xf9:
    case 0xfa:
    case 0xfb:
    case 0xfc:
    case 0xfd:
    case 0xfe:
      queue(kAck);
      break;
    case 0xff:  // reset: acknowledge, then the basic assurance test result
      s_.scanning = true;
      s_.leds = 0;
      s_.scancode_set = 2;
      queue(kAck);
      queue(kSelfTestPassed);
      break;
    default:
      queue(kResend);
      break;
  }
}

uint32_t I8042::in(uint16_t port, unsigned) {
  if (port == kCommandPort) return status();
  if (!s_.output.empty()) {
    s_.last_data = s_.output.front().byte;
    s_.output.pop_front();
    // Drop the lines so the next byte, if any, gets its own edge.
    if (s_.irq1) irq_.set_level(kKeyboardIrq, s_.irq1 = false);
    if (s_.irq12) irq_.set_level(kAuxIrq, s_.irq12 = false);
    update_irqs();
  }
  return s_.last_data;  // an empty buffer reads the last byte again
}

void I8042::out(uint16_t port, unsigned, uint32_t raw) {
  const auto value = uint8_t(raw);
  if (port == kCommandPort) {
    s_.last_write_was_command = true;
    s_.pending_command = 0;
    controller_command(value);
    return;
  }
  s_.last_write_was_command = false;
  if (s_.pending_command) {
    controller_data(std::exchange(s_.pending_command, 0), value);
    return;
  }
  keyboard_write(value);
}

}  // namespace devices
