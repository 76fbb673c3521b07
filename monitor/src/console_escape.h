// QEMU's console escapes for a terminal on the guest's serial port: Ctrl-A x leaves, Ctrl-A h
// prints help, Ctrl-A Ctrl-A sends one Ctrl-A; any other key after Ctrl-A is dropped. Every
// other byte (Ctrl-C included) goes to the guest.
#pragma once

#include <cstdint>

namespace monitor {

class ConsoleEscape {
 public:
  static constexpr uint8_t kEscape = 0x01;  // Ctrl-A
  enum class Action { Forward, Quit, Help, None };
  // What the byte typed does; Forward means the byte goes to the guest.
  Action feed(uint8_t byte);

 private:
  bool escaped_ = false;
};

// The help text (lines end in \r\n: the terminal is in raw mode).
const char* console_escape_help();

}  // namespace monitor
