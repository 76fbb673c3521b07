#include "console_escape.h"

namespace monitor {

ConsoleEscape::Action ConsoleEscape::feed(uint8_t byte) {
  if (!escaped_) {
    if (byte != kEscape) return Action::Forward;
    escaped_ = true;
    return Action::None;
  }
  escaped_ = false;
  switch (byte) {
    case kEscape:
      return Action::Forward;
    case 'x':
    case 'X':
      return Action::Quit;
    case 'h':
    case 'H':
    case '?':
      return Action::Help;
    default:
      return Action::None;
  }
}

const char* console_escape_help() {
  return "\r\nbt86 console: Ctrl-A then\r\n"
         "  x       leave bt86\r\n"
         "  h       this help\r\n"
         "  Ctrl-A  send Ctrl-A to the guest\r\n"
         "Everything else, Ctrl-C included, goes to the guest.\r\n";
}

}  // namespace monitor
