#include "halt_sleep.h"

#include <poll.h>
#include <pthread.h>
#include <time.h>

#include "devices/clock.h"

namespace monitor {

namespace {
uint64_t now_ns() {
  return devices::HostClock{}.now_ns();
}
}  // namespace

uint64_t sleep_until_event(uint64_t deadline_ns, const volatile uint8_t* flag, const sigset_t& wake,
                           int wake_fd) {
  sigset_t before, during;
  pthread_sigmask(SIG_BLOCK, &wake, &before);
  during = before;
  for (int s = 1; s < NSIG; ++s)
    if (sigismember(&wake, s) == 1) sigdelset(&during, s);

  const uint64_t start = now_ns();
  if (!*flag && start < deadline_ns) {
    const uint64_t left = deadline_ns - start;
    const timespec timeout{time_t(left / 1'000'000'000u), long(left % 1'000'000'000u)};
    // Returns 0 at the timeout or -1/EINTR after a handler ran; either way the caller looks.
    pollfd input{wake_fd, POLLIN, 0};
    ppoll(wake_fd >= 0 ? &input : nullptr, wake_fd >= 0 ? 1 : 0, &timeout, &during);
  }
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  return now_ns() - start;
}

}  // namespace monitor
