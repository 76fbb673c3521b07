// How a halted vCPU waits in the host: asleep, without spinning, until its next timer deadline
// or until a signal handler (a timer tick, Ctrl-C) has set the flag it watches.
#pragma once

#include <signal.h>

#include <cstdint>

namespace monitor {

// Sleeps until deadline_ns (CLOCK_MONOTONIC) or until one of `wake` is delivered, whichever
// comes first; does not sleep at all when *flag is already set. The check and the sleep are
// atomic with respect to `wake` (blocked in between, unblocked by ppoll), so a signal that sets
// *flag just before the sleep still ends it. With wake_fd >= 0, input on that descriptor (the
// console) ends it too. Returns the nanoseconds spent.
uint64_t sleep_until_event(uint64_t deadline_ns, const volatile uint8_t* flag, const sigset_t& wake,
                           int wake_fd = -1);

}  // namespace monitor
