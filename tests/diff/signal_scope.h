// Installs the native runner's fault handlers for the length of one run and puts back whatever
// was there before (the translated runner installs its own handlers for the same signals).
#pragma once

#include <signal.h>

#include <array>

namespace difftest::native {

using SigactionFn = void (*)(int, siginfo_t*, void*);

class SignalScope {
 public:
  // The signals a compat-mode instruction can raise: #DE, #BP, #OF, #BR, #UD, #GP, #PF, #AC.
  static constexpr std::array<int, 5> kSignals = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};

  explicit SignalScope(SigactionFn handler);
  ~SignalScope();
  SignalScope(const SignalScope&) = delete;
  SignalScope& operator=(const SignalScope&) = delete;

 private:
  void restore_altstack();

  std::array<struct sigaction, kSignals.size()> previous_{};
  stack_t previous_altstack_{};
  sigset_t previous_mask_{};
};

}  // namespace difftest::native
