// Host stdin as the guest's serial input (COM1's receiver). A terminal is put in raw mode (no
// line editing, no echo, Ctrl-C a byte for the guest; output processing kept) and restored on
// every way out: the destructor, exit(), and a crash through host_signals' crash hook. Its
// bytes pass through ConsoleEscape. A pipe or file is guest input as it is, to its end.
// Reading never blocks: pump() takes only what poll() says is there.
#pragma once

#include <cstdint>
#include <deque>

#include "console_escape.h"
#include "devices/uart16550.h"

namespace monitor {

class ConsoleInput {
 public:
  explicit ConsoleInput(int fd);
  ~ConsoleInput();
  ConsoleInput(const ConsoleInput&) = delete;
  ConsoleInput& operator=(const ConsoleInput&) = delete;

  // Reads what is available and moves into the UART what its receiver can take now — only while
  // the guest has the receive interrupt enabled (a driver is listening; bytes sent earlier
  // would be lost when it resets the FIFO) and the line connected (no loopback). Bytes a later
  // FIFO reset empties out unread are sent again.
  void pump(devices::Uart16550& uart);
  // The descriptor a sleep should wake on (input would make progress), or -1.
  int wake_fd() const;
  bool quit_requested() const { return quit_; }
  bool is_terminal() const { return terminal_; }

 private:
  static constexpr size_t kMaxPending = 64 * 1024;  // then the rest waits in the host
  void read_available();
  void take(const uint8_t* p, size_t n);

  int fd_;
  bool terminal_ = false;
  bool ended_ = false;
  bool quit_ = false;
  ConsoleEscape escape_;
  std::deque<uint8_t> pending_;
};

}  // namespace monitor
