#include "hostexec/host_signals.h"

#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace hostexec::host_signals {

namespace {
constexpr int kSyncSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS};
constexpr size_t kMaxClaimers = 4;
// The trampoline finds the host FS base in the first word of the 64 KiB-aligned block that
// holds the alternate stack (HOST-MECHANISMS §4): no TLS is usable before it is restored.
constexpr uintptr_t kAltBlock = 64 * 1024;

Claimer g_claimers[kMaxClaimers];
AsyncCallback g_async[NSIG];
void (*g_crash_hook)() = nullptr;
bool g_initialized = false;

void install(int sig, int extra_flags);
}  // namespace
}  // namespace hostexec::host_signals

extern "C" void bt86_signal_dispatch(int sig, siginfo_t* si, void* ctx);

// sa_sigaction for every signal: saves the interrupted FS base, installs the host's, runs the
// dispatcher, and puts the interrupted FS base back (sigreturn does not touch it).
asm(R"(
        .text
        .p2align 4
        .globl bt86_signal_trampoline
        .hidden bt86_signal_trampoline
        .type bt86_signal_trampoline, @function
bt86_signal_trampoline:
        sub $24, %rsp
        rdfsbase %rax
        mov %rax, (%rsp)
        mov %rsp, %rax
        and $-65536, %rax
        mov (%rax), %rax
        wrfsbase %rax
        call bt86_signal_dispatch
        mov (%rsp), %rax
        wrfsbase %rax
        add $24, %rsp
        ret
        .size bt86_signal_trampoline, . - bt86_signal_trampoline

/* Without FSGSBASE (HOST-MECHANISMS §4, the fallback): arch_prctl(ARCH_SET_FS) puts the host
   base back, and reloading the interrupted selector afterwards restores a guest alias's base.
   Only when FS holds a selector: nothing in the monitor's process loads FS any more (guest
   code runs directly only in the confined process, and translated fs:/gs: accesses go through
   the host GS base), so a null FS is the one the process started with, and its base is the
   host's. (A null selector loaded later would not be: on Intel it clears the base.) The call
   cost a system call per host fault; on the PVM host, where unparking faults are frequent,
   that was 3-4% of a Debian boot. */
        .p2align 4
        .globl bt86_signal_trampoline_nofsgs
        .hidden bt86_signal_trampoline_nofsgs
        .type bt86_signal_trampoline_nofsgs, @function
bt86_signal_trampoline_nofsgs:
        sub $40, %rsp
        mov %rdi, 8(%rsp)
        mov %rsi, 16(%rsp)
        mov %rdx, 24(%rsp)
        mov %fs, %eax
        mov %eax, (%rsp)
        test %eax, %eax
        jz 2f
        mov %rsp, %rsi
        and $-65536, %rsi
        mov (%rsi), %rsi
        mov $158, %eax          /* arch_prctl */
        mov $0x1002, %edi       /* ARCH_SET_FS */
        syscall
2:      mov 8(%rsp), %rdi
        mov 16(%rsp), %rsi
        mov 24(%rsp), %rdx
        call bt86_signal_dispatch
        mov (%rsp), %eax
        test %eax, %eax
        jz 1f
        mov %eax, %fs
1:      add $40, %rsp
        ret
        .size bt86_signal_trampoline_nofsgs, . - bt86_signal_trampoline_nofsgs
)");
extern "C" void bt86_signal_trampoline(int, siginfo_t*, void*);
extern "C" void bt86_signal_trampoline_nofsgs(int, siginfo_t*, void*);
// Read by the signal trampoline and the translator: whether rd/wrfsbase and rd/wrgsbase may be
// used.
extern "C" {
__attribute__((visibility("hidden"))) uint8_t bt86_have_fsgsbase = 0;
}

extern "C" void bt86_signal_dispatch(int sig, siginfo_t* si, void* ctx) {
  using namespace hostexec::host_signals;
  auto* uc = static_cast<ucontext_t*>(ctx);
  AsyncCallback cb = sig > 0 && sig < NSIG ? g_async[sig] : nullptr;
  if (cb) cb(sig);
  for (Claimer c : g_claimers)
    if (c && c(sig, si, uc)) return;
  if (cb) return;
  // A synchronous signal nobody claims is a monitor bug: say where, then die with a core.
  if (g_crash_hook) g_crash_hook();
  char msg[96];
  static const char hex[] = "0123456789abcdef";
  const char* head = "bt86: internal error: unhandled host signal at rip 0x";
  size_t n = std::strlen(head);
  std::memcpy(msg, head, n);
  uint64_t rip = uint64_t(uc->uc_mcontext.gregs[REG_RIP]);
  for (int i = 60; i >= 0; i -= 4) msg[n++] = hex[(rip >> i) & 15];
  msg[n++] = '\n';
  if (write(2, msg, n) < 0) {
  }
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigaction(sig, &dfl, nullptr);
  raise(sig);
}

namespace hostexec::host_signals {
void set_crash_hook(void (*hook)()) {
  g_crash_hook = hook;
}

namespace {
void install(int sig, int extra_flags) {
  struct sigaction sa {};
  sa.sa_sigaction = bt86_have_fsgsbase ? bt86_signal_trampoline : bt86_signal_trampoline_nofsgs;
  // SA_NODEFER: handlers leave by rewriting the context (and later maybe without sigreturn),
  // so the signal must not stay blocked.
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | extra_flags;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, nullptr);
}

void setup_altstack() {
  void* p =
      mmap(nullptr, 2 * kAltBlock, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::runtime_error("cannot allocate the signal stack");
  auto block = (reinterpret_cast<uintptr_t>(p) + kAltBlock - 1) & ~(kAltBlock - 1);
  uint64_t fsbase;
  asm volatile("mov %%fs:0, %0" : "=r"(fsbase));  // the x86-64 TCB points to itself
  *reinterpret_cast<uint64_t*>(block) = fsbase;
  stack_t ss{};
  ss.ss_sp = reinterpret_cast<void*>(block + 64);
  ss.ss_size = kAltBlock - 64;
  if (sigaltstack(&ss, nullptr) != 0) throw std::runtime_error("sigaltstack failed");
}
}  // namespace

void init() {
  if (g_initialized) return;
  bt86_have_fsgsbase = (getauxval(AT_HWCAP2) & 2) != 0;  // HWCAP2_FSGSBASE
  setup_altstack();
  for (int sig : kSyncSignals) install(sig, 0);
  g_initialized = true;
}

void add_claimer(Claimer c) {
  for (Claimer& slot : g_claimers)
    if (!slot) {
      slot = c;
      return;
    }
  throw std::logic_error("too many host signal claimers");
}

void remove_claimer(Claimer c) {
  for (Claimer& slot : g_claimers)
    if (slot == c) slot = nullptr;
}

// What each asynchronous signal did before add_async routed it (remove_async puts it back).
static struct sigaction g_before_async[NSIG];

void add_async(int sig, AsyncCallback cb) {
  init();
  if (!g_async[sig]) sigaction(sig, nullptr, &g_before_async[sig]);
  g_async[sig] = cb;
  // SA_RESTART: a timer tick must not make the monitor's own writes (guest serial output) fail
  // with EINTR; a sleep in hlt uses ppoll, which returns on a signal regardless.
  install(sig, SA_RESTART);
}

void remove_async(int sig) {
  if (!g_async[sig]) return;
  sigaction(sig, &g_before_async[sig], nullptr);
  g_async[sig] = nullptr;
}

}  // namespace hostexec::host_signals

namespace hostexec::host_signals {
bool is_async(int sig) {
  return sig > 0 && sig < NSIG && g_async[sig] != nullptr;
}
bool have_fsgsbase() {
  return bt86_have_fsgsbase != 0;
}
}  // namespace hostexec::host_signals
