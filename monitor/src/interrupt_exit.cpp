#include "interrupt_exit.h"

#include <signal.h>
#include <unistd.h>

#include "machine.h"

namespace monitor {

namespace {
void on_signal(int) {
  exit_interrupted_now();
}
}  // namespace

[[noreturn]] void exit_interrupted_now() {
  static const char kLine[] = "\nbt86: interrupted\n";
  // Only write(2) and _exit(2): this runs in a signal handler. stdout's buffered bytes are lost.
  ssize_t ignored = write(STDERR_FILENO, kLine, sizeof kLine - 1);
  (void)ignored;
  _exit(kExitInterrupted);
}

void exit_on_interrupt() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM}) sigaction(sig, &sa, nullptr);
}

}  // namespace monitor
