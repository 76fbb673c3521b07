#include "signal_scope.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace difftest::native {
namespace {

[[noreturn]] void fail(const char* what) {
  throw std::runtime_error(std::string("difftest: ") + what + ": " + std::strerror(errno));
}

// The guest's ESP is arbitrary, so handlers run on their own stack. Allocated once, kept for
// the life of the process.
const stack_t& alt_stack() {
  static const stack_t stack = [] {
    constexpr size_t kSize = 256 * 1024;  // AVX-512 signal frames are several KiB
    void* p = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) fail("mmap of the signal stack");
    stack_t s{};
    s.ss_sp = p;
    s.ss_size = kSize;
    return s;
  }();
  return stack;
}

}  // namespace

SignalScope::SignalScope(SigactionFn handler) {
  const stack_t& stack = alt_stack();
  if (sigaltstack(&stack, &previous_altstack_) != 0) fail("sigaltstack");
  struct sigaction sa {};
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigset_t unblock;
  sigemptyset(&unblock);
  for (size_t i = 0; i < kSignals.size(); ++i) {
    if (sigaction(kSignals[i], &sa, &previous_[i]) != 0) {
      const int saved = errno;
      while (i-- > 0) sigaction(kSignals[i], &previous_[i], nullptr);
      restore_altstack();
      errno = saved;
      fail("sigaction");
    }
    sigaddset(&unblock, kSignals[i]);
  }
  // A synchronous fault signal that is blocked kills the process instead of reaching us.
  pthread_sigmask(SIG_UNBLOCK, &unblock, &previous_mask_);
}

SignalScope::~SignalScope() {
  pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
  for (size_t i = 0; i < kSignals.size(); ++i) sigaction(kSignals[i], &previous_[i], nullptr);
  restore_altstack();
}

void SignalScope::restore_altstack() {
  // SS_ONSTACK is reported for the current stack, but only SS_DISABLE may be passed back.
  previous_altstack_.ss_flags &= SS_DISABLE;
  sigaltstack(&previous_altstack_, nullptr);
}

}  // namespace difftest::native
