// The confined host process for direct execution (issue 12, item 3; SECURITY.md): a tiny static
// stub program (hostexec/de_stub/) whose address space holds its own image, a control page
// shared with the monitor, and the guest-RAM mappings the monitor asks for inside
// [0, 8 GiB) — nothing of the monitor, no vDSO. Its seccomp filter kills it on any system call
// but the stub's own mapping and futex calls. This class is the monitor's side: it starts the
// stub, sends it commands through the control page, and sees its death through a pidfd.
//
// Not yet wired into DirectExec (which still runs guest code in the monitor's process).
#pragma once

#include <sys/types.h>

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
    int signal = 0;       // the killing signal, or 0 if it exited
    int exit_status = 0;  // its exit status when signal == 0
    std::string describe() const;
  };

  // Thrown by every command once the stub is dead; the monitor stops the VM with `what()`.
  class Died : public std::runtime_error {
   public:
    explicit Died(const Death& d);
    Death death;
  };

  // Starts the stub with guest RAM `ram_fd` (a memfd; not consumed) and confines it. Throws
  // std::runtime_error (Died if the stub dies while starting) on failure.
  explicit DeProcess(int ram_fd);
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

  // A no-op round trip (the cost of one command).
  void ping();

  // TEST ONLY: the stub calls 64-bit code at `addr` (in the window) and answers when it
  // returns. This host cannot run compat-mode code, so the tests reach confinement this way;
  // guest code enters in compat mode once DirectExec uses this process.
  int run_test_code(uint64_t addr);

  // Ends the stub with SIGKILL. One system call: safe from another thread or a signal handler.
  // A command waiting for the stub then throws Died. Until direct execution runs in the stub
  // with its kicks (step 2), this is how code spinning in it is stopped.
  void terminate() const noexcept;

  pid_t pid() const { return pid_; }
  // The address of the stub's one `syscall` instruction (reported by the stub at start).
  uint64_t syscall_address() const { return syscall_insn_; }
  // Set once the stub is dead (seen by a command, or by alive()).
  const std::optional<Death>& death() const { return death_; }
  // Polls the pidfd: false (and death() set) once the stub has died.
  bool alive();

 private:
  int command(uint32_t cmd);
  void await(uint32_t seq);
  void reap();
  void shutdown();
  void hello_and_confine();

  pid_t pid_ = -1;
  int pidfd_ = -1;
  int control_fd_ = -1;
  de_stub_control* control_ = nullptr;
  uint32_t seq_ = 0;
  uint64_t ram_size_ = 0;
  uint64_t syscall_insn_ = 0;
  std::optional<Death> death_;
};

}  // namespace hostexec
