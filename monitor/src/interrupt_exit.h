// SIGINT / SIGTERM outside the run loop (loading the kernel and initrd, setting up, printing
// the statistics at the end): bt86 ends at once with status 130 and "bt86: interrupted", as it
// does during the run, rather than dying by the signal. The run loop routes both signals
// through hostexec::host_signals for its whole length (the guest stops at the next exit) and
// puts these handlers back afterwards. Nothing outside the loop needs undoing: the terminal is
// only raw inside it, and the direct-execution process dies with bt86 (PR_SET_PDEATHSIG).
#pragma once

namespace monitor {

void exit_on_interrupt();

// The status and line both ways of ending use (async-signal-safe).
[[noreturn]] void exit_interrupted_now();

}  // namespace monitor
