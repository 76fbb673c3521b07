// The confined host process for direct execution (issue 12, item 3; SECURITY.md): a tiny static
// stub program (hostexec/de_stub/) whose address space holds its own image, a control page
// shared with the monitor, and the guest-RAM mappings the monitor asks for inside
// [0, 8 GiB) — nothing of the monitor, no vDSO. Its seccomp filter kills it on any system call
// but the stub's own mapping and futex calls. This class is the monitor's side: it starts the
// stub, sends it commands through the control page, and sees its death through a pidfd.
//
// Code runs in it with enter(): every way it comes back (a fault or trap, an i386 system call
// trapped by seccomp, a kick) is a signal that the stub's handler turns into an exit record.
// Once code has run there, the whole stub process may be the guest's (64-bit code reached
// through the host's selector 0x33 controls it), so every answer is checked as hostile input.
//
// DirectExec runs all directly executed guest code here.
#pragma once

#include <asm/ldt.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

struct de_stub_control;

namespace hostexec {

class DeProcess {
 public:
  // How the stub ended: killed by `signal` (SIGSYS: its seccomp filter), or exited.
  struct Death {
    int signal = 0;                // the killing signal, or 0 if it exited
    int exit_status = 0;           // its exit status when signal == 0
    bool unanswered_kick = false;  // the monitor killed it: a kick went unanswered
    std::string describe() const;
  };

  // Thrown by every command once the stub is dead; the monitor stops the VM with `what()`.
  class Died : public std::runtime_error {
   public:
    explicit Died(const Death& d);
    Death death;
  };

  // Thrown when the stub answers what it cannot have answered (an impossible exit record or
  // result): code running in it has taken it over. The stub is terminated first.
  class Hostile : public std::runtime_error {
   public:
    using std::runtime_error::runtime_error;
  };

  // The state code is entered with, and leaves (de_stub_abi.h): rax rcx rdx rbx rsp rbp rsi
  // rdi, rip (below 4 GiB), rflags, selectors.
  struct Regs {
    uint64_t gpr[8] = {};
    uint64_t rip = 0, rflags = 0x202;
    uint16_t cs = 0, ss = 0, ds = 0, es = 0, fs = 0, gs = 0;
  };
  // How entered code came back, checked for consistency.
  struct Exit {
    enum class Kind : uint8_t {
      Trap,        // a synchronous signal from the code: signo, code, trapno, err, addr
      Kick,        // kick() interrupted it
      Bailed,      // the kick was seen before it ran
      EntryFault,  // loading the entry state faulted (signo, trapno, err; addr: where)
    } kind = Kind::Trap;
    int signo = 0, code = 0, trapno = 0;
    uint64_t err = 0, addr = 0;
    int syscall_nr = 0;  // SIGSYS: the i386 system call number
  };

  // Starts the stub with guest RAM `ram_fd` (a memfd; not consumed) and confines it. Throws
  // std::runtime_error (Died if the stub dies while starting) on failure.
  // With `approve_maps`, the stub's filter holds each mmap and each mprotect granting access
  // until the monitor has matched it with the window change it asked for
  // (de_process_calls.cpp): code that took over the stub then cannot map guest RAM of its
  // choosing or unpark pages. It costs a round trip per held call (docs/PERFORMANCE.md).
  explicit DeProcess(int ram_fd, bool approve_maps = true);
  ~DeProcess();  // kills and reaps the stub
  DeProcess(const DeProcess&) = delete;
  DeProcess& operator=(const DeProcess&) = delete;

  // Window changes in the stub's address space: 0, or -errno (from the stub's mmap/mprotect/
  // munmap). -EINVAL, without asking the stub, for a range not inside [0, 8 GiB) or not
  // page-aligned, protection bits other than PROT_READ/WRITE/EXEC, or (map) RAM beyond the
  // size `ram_fd` had when the process started.
  int map(uint64_t addr, uint64_t ram_offset, uint64_t len, int prot);
  int protect(uint64_t addr, uint64_t len, int prot);
  int unmap(uint64_t addr, uint64_t len);

  // Many window changes in order, in batches of up to DE_STUB_MAX_WINDOW_OPS per command: 0,
  // or the -errno of the first that failed, with its index in `failed` (those before it are
  // done). The checks of map/protect/unmap apply to each (-EINVAL before anything is sent for
  // that batch).
  struct WindowOp {
    enum class Kind : uint8_t { Map, Protect, Unmap } kind;
    int prot = 0;
    uint64_t addr = 0, len = 0, ram_offset = 0;
  };
  int change_window(const WindowOp* ops, size_t n, size_t* failed);

  // A no-op round trip (the cost of one command).
  void ping();

  // Runs code in the stub from `regs` and the fxsave image `fpu` until it exits; both then
  // hold the state the code left. Throws Died if the stub died, Hostile for an impossible
  // answer. The code may be 64-bit (CS 0x33: tests on hosts without compat mode, or an
  // escaped guest) or compatibility-mode guest code (an LDT alias, set_ldt()).
  Exit enter(Regs& regs, uint8_t (&fpu)[512]);

  // Interrupts enter() from any thread or signal handler: the code exits with Kind::Kick (or
  // Bailed). A kick not answered within the grace time ends the stub (terminate()): code in
  // it can block the signal. A kick while nothing is entered does nothing.
  void kick() noexcept;
  void set_kick_grace(std::chrono::milliseconds g) { kick_grace_ = g; }
  // A word that signal handlers set before they kick (the vCPU's pending events): enter()
  // looks at it once kicks are armed and returns Bailed without entering when it is set, so
  // that a kick landing just before enter() is not lost.
  void set_pending_word(const uint16_t* w) { pending_ = w; }

  // One host LDT entry in the stub (modify_ldt(1, ...)): 0 or -errno.
  int set_ldt(const user_desc& d);

  // Ends the stub with SIGKILL. One system call: safe from another thread or a signal handler.
  // A command waiting for the stub then throws Died.
  void terminate() const noexcept;

  pid_t pid() const { return pid_; }
  // The address of the stub's one `syscall` instruction (reported by the stub at start).
  uint64_t syscall_address() const { return syscall_insn_; }
  // Set once the stub is dead (seen by a command, or by alive()).
  const std::optional<Death>& death() const { return death_; }
  // Polls the pidfd: false (and death() set) once the stub has died.
  bool alive();

 private:
  bool valid(const WindowOp& op) const;
  int command(uint32_t cmd);
  uint32_t post(uint32_t cmd);
  int answer();
  void await(uint32_t seq);
  // de_process_calls.cpp: the stub's mmap/mprotect calls, each held by its filter until the
  // monitor has compared it with the window change it asked for.
  static bool held(const WindowOp& op);
  void approve(uint32_t seq, const WindowOp* ops, size_t n);
  void refuse_unasked_calls();
  Exit checked_exit(Regs& regs, uint8_t (&fpu)[512], bool compat);
  [[noreturn]] void hostile(const std::string& what);
  void reap();
  void shutdown();
  void hello_and_confine(bool approve_maps);

  pid_t pid_ = -1;
  int pidfd_ = -1;
  int control_fd_ = -1;
  int listener_ = -1;  // the stub filter's listener (SECCOMP_RET_USER_NOTIF calls)
  de_stub_control* control_ = nullptr;
  uint32_t seq_ = 0;
  uint64_t ram_size_ = 0;
  uint64_t syscall_insn_ = 0;
  std::optional<Death> death_;
  std::atomic<bool> entered_{false};  // an ENTER is in flight: kick() signals
  std::atomic<bool> kicked_{false};
  bool killed_for_kick_ = false;
  std::chrono::milliseconds kick_grace_{2000};
  const uint16_t* pending_ = nullptr;
};

}  // namespace hostexec
