#include "console_input.h"

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "hostexec/host_signals.h"

namespace monitor {

namespace {
// The terminal's settings before raw mode; restored from any path, signal handlers included
// (tcsetattr is async-signal-safe).
struct termios g_saved;
volatile int g_saved_fd = -1;

void restore_terminal() {
  const int fd = g_saved_fd;
  if (fd >= 0) tcsetattr(fd, TCSANOW, &g_saved);
}

constexpr uint8_t kIerRx = 0x01;
}  // namespace

ConsoleInput::ConsoleInput(int fd) : fd_(fd) {
  struct termios t;
  if (!isatty(fd) || tcgetattr(fd, &t) != 0) return;
  terminal_ = true;
  g_saved = t;
  g_saved_fd = fd;
  static bool hooks = false;
  if (!hooks) {
    std::atexit(restore_terminal);
    hostexec::host_signals::set_crash_hook(restore_terminal);
    hooks = true;
  }
  cfmakeraw(&t);
  t.c_oflag |= OPOST;  // guest output looks as it does on a serial terminal (QEMU does this too)
  tcsetattr(fd, TCSANOW, &t);
}

ConsoleInput::~ConsoleInput() {
  if (!terminal_) return;
  restore_terminal();
  g_saved_fd = -1;
}

int ConsoleInput::wake_fd() const {
  return ended_ || pending_.size() >= kMaxPending ? -1 : fd_;
}

void ConsoleInput::take(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (!terminal_) {
      pending_.push_back(p[i]);
      continue;
    }
    switch (escape_.feed(p[i])) {
      case ConsoleEscape::Action::Forward:
        pending_.push_back(p[i]);
        break;
      case ConsoleEscape::Action::Quit:
        quit_ = true;
        break;
      case ConsoleEscape::Action::Help:
        std::fputs(console_escape_help(), stderr);
        break;
      case ConsoleEscape::Action::None:
        break;
    }
  }
}

void ConsoleInput::read_available() {
  while (wake_fd() >= 0) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))) return;
    if (p.revents & POLLNVAL) {
      ended_ = true;
      return;
    }
    uint8_t buf[4096];
    const size_t want = std::min(sizeof buf, kMaxPending - pending_.size());
    const ssize_t n = read(fd_, buf, want);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      ended_ = true;  // end of the pipe or file, or the terminal went away
      return;
    }
    take(buf, size_t(n));
  }
}

void ConsoleInput::pump(devices::Uart16550& uart) {
  // Linux's set_termios enables the receive interrupt before it turns the FIFO on, and turning
  // it on empties the receiver: bytes sent in between go again, ahead of the rest.
  const auto again = uart.take_reset_line_bytes();
  pending_.insert(pending_.begin(), again.begin(), again.end());
  read_available();
  if (!(uart.state().ier & kIerRx) || !uart.receives_line()) return;
  while (!pending_.empty() && uart.rx_space() > 0) {
    uart.push_input(pending_.front());
    pending_.pop_front();
  }
}

}  // namespace monitor
