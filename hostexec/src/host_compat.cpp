#include "hostexec/host_compat.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <optional>

namespace hostexec {

namespace {
constexpr uintptr_t kProbePage = 0x10000;  // below 4 GiB: compat code can only run there
constexpr int kRanCompatCode = 42;

// In the child: the compat stub's `hlt` faults with CS = 0x23 if the entry worked; a failed
// iretq faults with the 64-bit CS.
void on_segv(int, siginfo_t*, void* ctx) {
  auto* uc = static_cast<ucontext_t*>(ctx);
  const auto cs = uint16_t(uc->uc_mcontext.gregs[REG_CSGSFS] & 0xffff);
  const auto rip = uint64_t(uc->uc_mcontext.gregs[REG_RIP]);
  _exit(cs == 0x23 && rip == kProbePage ? kRanCompatCode : 1);
}

[[noreturn]] void child() {
  munmap(reinterpret_cast<void*>(kProbePage), 4096);
  void* p = mmap(reinterpret_cast<void*>(kProbePage), 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (p == MAP_FAILED) _exit(2);
  static_cast<uint8_t*>(p)[0] = 0xf4;  // hlt
  static uint8_t stack[16384];
  stack_t ss{};
  ss.ss_sp = stack;
  ss.ss_size = sizeof stack;
  sigaltstack(&ss, nullptr);
  struct sigaction sa {};
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigaction(SIGSEGV, &sa, nullptr);
  sigaction(SIGILL, &sa, nullptr);
  sigaction(SIGBUS, &sa, nullptr);
  // iretq to CS 0x23 (__USER32_CS), SS 0x2b, at the stub, with a stack in the same page.
  asm volatile(
      "pushq $0x2b\n\t"
      "pushq %0\n\t"
      "pushfq\n\t"
      "pushq $0x23\n\t"
      "pushq %1\n\t"
      "iretq" ::"r"(uint64_t(kProbePage + 4096 - 16)),
      "r"(uint64_t(kProbePage)));
  _exit(3);
}

std::optional<std::string> probe() {
  pid_t pid = fork();
  if (pid < 0) return std::string("cannot fork the probe: ") + std::strerror(errno);
  if (pid == 0) child();
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return std::string("waitpid failed");
  if (WIFEXITED(status) && WEXITSTATUS(status) == kRanCompatCode) return std::nullopt;
  return std::string(
      "this host cannot run 32-bit compatibility-mode code (the kernel has "
      "IA32 emulation off, or is a paravirtualized guest without a 32-bit code "
      "segment)");
}
}  // namespace

bool compat_mode_available(std::string* why) {
  static const std::optional<std::string> failure = probe();
  if (failure && why) *why = *failure;
  return !failure;
}

}  // namespace hostexec
