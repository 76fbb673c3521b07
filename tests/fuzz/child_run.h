// Running one fuzz input in a forked child under a watchdog. The child is bt86 on hostile
// input: it may end in any way the machine allows (a VM stop, the guest's own exit, SIGTERM
// from the watchdog), but a crash, an escaped exception, or ignoring SIGTERM is a finding.
#pragma once

#include <functional>
#include <string>

namespace fuzz {

struct ChildLimits {
  // Then SIGTERM: a guest that runs on is not a finding. Short, because every endless guest
  // costs this much fuzzing time (most end by themselves within a few milliseconds).
  int run_ms = 100;
  // bt86 not ending within this after SIGTERM is a finding (generous: a loaded host is slow).
  int grace_ms = 10000;
};

struct ChildResult {
  enum class Kind { Exited, Signaled, IgnoredSigterm } kind = Kind::Exited;
  int code = 0;             // exit status, or the signal
  bool terminated = false;  // the watchdog sent SIGTERM
  std::string stderr_text;  // what the child wrote to stderr (its stdout goes nowhere)
};

// Runs `body` in a child with default signal dispositions, stdin and stdout on /dev/null;
// its return value is the child's exit status. Under libFuzzer the child's coverage counters
// are added to the parent's, so the fuzzer sees what the child ran.
ChildResult run_in_child(const std::function<int()>& body, const ChildLimits& limits);

}  // namespace fuzz
