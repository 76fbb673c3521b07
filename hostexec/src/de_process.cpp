// The monitor's side of the confined direct-execution process: lifetime (spawn, confine, kill,
// reap), commands over the shared control page, and death detection through a pidfd.
#include "hostexec/de_process.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/audit.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

#include "de_exit_plausible.h"
#include "de_stub_abi.h"
#include "de_stub_filter.h"
#include "de_stub_spawn.h"

static_assert(sizeof(de_stub_control) <= 4096, "the control page is one page");

namespace hostexec {

namespace {

constexpr uint64_t kPage = 4096;

std::runtime_error error(const std::string& what, int err) {
  return std::runtime_error("direct-execution process: " + what + ": " + std::strerror(err));
}

long futex(uint32_t* word, int op, uint32_t val, const timespec* timeout) {
  return syscall(SYS_futex, word, op, val, timeout, nullptr, 0);
}

bool plain_prot(int prot) {
  return (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) == 0;
}

bool window_range(uint64_t addr, uint64_t len) {
  return len != 0 && addr % kPage == 0 && len % kPage == 0 && addr < DE_WINDOW_END &&
         len <= DE_WINDOW_END - addr;
}

const char* stub_exit_reason(int status) {
  switch (status) {
    case DE_EXIT_SHED_MEMORY:
      return "could not unmap its stack, vDSO and vvar";
    case DE_EXIT_SETUP:
      return "prctl/prlimit failed";
    case DE_EXIT_CONTROL:
      return "could not map the control page";
    case DE_EXIT_ORPHAN:
      return "its monitor was gone";
    case DE_EXIT_SIGNALS:
      return "could not install its signal handlers";
    case DE_EXIT_STUB_FAULT:
      return "a fault in the stub itself, or a signal from code it never entered";
  }
  return "unexpected exit";
}

// DeProcess::Regs and the stub's de_stub_regs name the same fields; one copy serves both ways.
template <class To, class From>
void copy_regs(To& to, const From& from) {
  static_assert(sizeof to.gpr == sizeof from.gpr);
  std::memcpy(to.gpr, from.gpr, sizeof to.gpr);
  to.rip = from.rip;
  to.rflags = from.rflags;
  to.cs = from.cs;
  to.ss = from.ss;
  to.ds = from.ds;
  to.es = from.es;
  to.fs = from.fs;
  to.gs = from.gs;
}

}  // namespace

std::string DeProcess::Death::describe() const {
  if (unanswered_kick)
    return "direct-execution process ended by the monitor: it did not answer a kick (code in "
           "it blocked the signal or took over the stub)";
  if (signal == 0)
    return "direct-execution process exited with status " + std::to_string(exit_status) + " (" +
           stub_exit_reason(exit_status) + ")";
  std::string s = "direct-execution process killed by signal " + std::to_string(signal);
  if (const char* name = sigabbrev_np(signal)) s += std::string(" (SIG") + name + ")";
  if (signal == SIGSYS) s += ": a system call its seccomp filter forbids";
  return s;
}

DeProcess::Died::Died(const Death& d) : std::runtime_error(d.describe()), death(d) {}

DeProcess::DeProcess(int ram_fd, bool approve_maps) {
  struct stat ram;
  if (fstat(ram_fd, &ram) != 0) throw error("guest RAM", errno);
  ram_size_ = uint64_t(ram.st_size);
  control_fd_ = memfd_create("bt86-de-control", MFD_CLOEXEC);
  if (control_fd_ < 0) throw error("memfd_create", errno);
  void* p = MAP_FAILED;
  if (ftruncate(control_fd_, kPage) == 0)
    p = mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, control_fd_, 0);
  if (p == MAP_FAILED) {
    int e = errno;
    close(control_fd_);
    throw error("control page", e);
  }
  control_ = static_cast<de_stub_control*>(p);
  try {
    pid_ = de::spawn_stub(ram_fd, control_fd_);
    pidfd_ = int(syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd_ < 0) throw error("pidfd_open", errno);
    hello_and_confine(approve_maps);
  } catch (...) {
    shutdown();
    throw;
  }
}

// The stub reports where its syscall instruction is; the filter allows system calls only from
// there. Until CONFINE succeeds the stub serves nothing else.
void DeProcess::hello_and_confine(bool approve_maps) {
  if (command(DE_CMD_HELLO) != 0) throw std::runtime_error("direct-execution stub: no hello");
  const uint64_t next = control_->syscall_next;
  if (control_->image_start < DE_WINDOW_END || next < control_->image_start ||
      next >= control_->image_end || control_->syscall_insn + 2 != next)
    throw std::runtime_error("direct-execution stub: implausible addresses in its hello");
  syscall_insn_ = control_->syscall_insn;
  const std::vector<sock_filter> filter = de::stub_filter(next, approve_maps);
  std::memcpy(control_->filter, filter.data(), filter.size() * sizeof(sock_filter));
  control_->filter_len = uint32_t(filter.size());
  if (int r = command(DE_CMD_CONFINE); r != 0) throw error("installing its seccomp filter", -r);
  if (!approve_maps) return;  // nothing is held: the listener stays unused in the stub
  const int theirs = control_->listener;
  if (theirs < 0 || theirs == DE_STUB_RAM_FD)
    throw std::runtime_error("direct-execution stub: implausible listener descriptor");
  listener_ = int(syscall(SYS_pidfd_getfd, pidfd_, theirs, 0));
  if (listener_ < 0)
    throw error("taking its seccomp listener (pidfd_getfd; ptrace restrictions?)", errno);
}

DeProcess::~DeProcess() {
  shutdown();
}

void DeProcess::shutdown() {
  if (pidfd_ >= 0) {
    if (!death_) terminate();
    reap();
    close(pidfd_);
    pidfd_ = -1;
  } else if (pid_ > 0 && !death_) {  // pidfd_open failed
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (listener_ >= 0) close(listener_);
  listener_ = -1;
  if (control_) munmap(control_, kPage);
  control_ = nullptr;
  if (control_fd_ >= 0) close(control_fd_);
  control_fd_ = -1;
}

// Waits for the stub to end and records how; a no-op once recorded.
void DeProcess::reap() {
  if (death_) return;
  const bool ours = killed_for_kick_;
  siginfo_t si{};
  int r;
  do r = waitid(P_PIDFD, id_t(pidfd_), &si, WEXITED);
  while (r < 0 && errno == EINTR);
  Death d;
  if (r == 0 && si.si_code == CLD_EXITED)
    d.exit_status = si.si_status;
  else
    d.signal = r == 0 ? si.si_status : SIGKILL;  // ECHILD: someone else reaped it
  d.unanswered_kick = ours && d.signal == SIGKILL;
  death_ = d;
}

void DeProcess::terminate() const noexcept {
  syscall(SYS_pidfd_send_signal, pidfd_, SIGKILL, nullptr, 0);
}

bool DeProcess::alive() {
  if (death_) return false;
  pollfd pfd{pidfd_, POLLIN, 0};
  if (poll(&pfd, 1, 0) <= 0) return true;
  reap();
  return false;
}

void DeProcess::hostile(const std::string& what) {
  terminate();
  reap();
  throw Hostile("direct-execution process: " + what +
                " (code running in it has taken it over); it was ended");
}

// The answer is read once from the shared page (code in the stub may still be changing it)
// and must be one the stub can give: 0 or -errno.
int DeProcess::command(uint32_t cmd) {
  const uint32_t seq = post(cmd);
  await(seq);
  return answer();
}

uint32_t DeProcess::post(uint32_t cmd) {
  if (!alive()) throw Died(*death_);
  control_->cmd = cmd;
  const uint32_t seq = ++seq_;
  std::atomic_ref<uint32_t>(control_->seq).store(seq, std::memory_order_release);
  futex(&control_->seq, FUTEX_WAKE, 1, nullptr);
  return seq;
}

int DeProcess::answer() {
  const int32_t r = std::atomic_ref<int32_t>(control_->result).load(std::memory_order_relaxed);
  if (r > 0 || r < -4095) hostile("impossible result " + std::to_string(r));
  return r;
}

// Futex-waits for done == seq. A dead stub never answers: the wait times out now and then to
// look at the pidfd (a wake costs nothing extra; only a death is seen late, by up to 20 ms).
// After a kick, the stub has kick_grace_ to answer before it is ended.
void DeProcess::await(uint32_t seq) {
  std::atomic_ref<uint32_t> done(control_->done);
  std::optional<std::chrono::steady_clock::time_point> kicked_at;
  for (;;) {
    const uint32_t d = done.load(std::memory_order_acquire);
    if (d == seq) return;
    if (d != seq - 1) hostile("answer to a command not sent (" + std::to_string(d) + ")");
    const timespec tick{0, 20'000'000};
    // A held mapping call means no answer: look for one only when the wait timed out.
    if (futex(&control_->done, FUTEX_WAIT, d, &tick) != 0 && errno == ETIMEDOUT)
      refuse_unasked_calls();
    if (kicked_.load() && !kicked_at) kicked_at = std::chrono::steady_clock::now();
    if (kicked_at && std::chrono::steady_clock::now() - *kicked_at > kick_grace_) {
      killed_for_kick_ = true;
      terminate();
    }
    if (!alive()) throw Died(*death_);
  }
}

int DeProcess::map(uint64_t addr, uint64_t ram_offset, uint64_t len, int prot) {
  const WindowOp op{WindowOp::Kind::Map, prot, addr, len, ram_offset};
  size_t failed;
  return change_window(&op, 1, &failed);
}

bool DeProcess::valid(const WindowOp& op) const {
  if (!window_range(op.addr, op.len)) return false;
  switch (op.kind) {
    case WindowOp::Kind::Map:
      return plain_prot(op.prot) && op.ram_offset % kPage == 0 && op.ram_offset <= ram_size_ &&
             op.len <= ram_size_ - op.ram_offset;
    case WindowOp::Kind::Protect:
      return plain_prot(op.prot);
    case WindowOp::Kind::Unmap:
      return true;
  }
  return false;
}

// Each batch is one WINDOW command; its mmap and mprotect calls wait in the stub's filter until
// approve() has compared them with the batch's ops (kept here, not in the shared page).
int DeProcess::change_window(const WindowOp* ops, size_t n, size_t* failed) {
  static constexpr uint32_t kCmd[] = {DE_CMD_MAP, DE_CMD_PROTECT, DE_CMD_UNMAP};
  for (size_t first = 0; first < n; first += DE_STUB_MAX_WINDOW_OPS) {
    const size_t count = std::min<size_t>(n - first, DE_STUB_MAX_WINDOW_OPS);
    for (size_t i = 0; i < count; ++i) {
      const WindowOp& op = ops[first + i];
      if (!valid(op)) {
        *failed = first + i;
        return -EINVAL;
      }
      control_->ops[i] = de_stub_window_op{kCmd[size_t(op.kind)], uint32_t(op.prot), op.addr,
                                           op.len, op.ram_offset};
    }
    control_->count = uint32_t(count);
    const uint32_t seq = post(DE_CMD_WINDOW);
    approve(seq, ops + first, count);
    await(seq);
    if (int r = answer(); r != 0) {
      const uint32_t at = control_->failed;
      if (at >= count) hostile("a window batch failed at an op it was not sent");
      *failed = first + at;
      return r;
    }
  }
  return 0;
}

int DeProcess::protect(uint64_t addr, uint64_t len, int prot) {
  const WindowOp op{WindowOp::Kind::Protect, prot, addr, len, 0};
  size_t failed;
  return change_window(&op, 1, &failed);
}

int DeProcess::unmap(uint64_t addr, uint64_t len) {
  const WindowOp op{WindowOp::Kind::Unmap, 0, addr, len, 0};
  size_t failed;
  return change_window(&op, 1, &failed);
}

void DeProcess::ping() {
  command(DE_CMD_HELLO);
}

int DeProcess::set_ldt(const user_desc& d) {
  static_assert(sizeof(user_desc) == sizeof(de_stub_ldt));
  std::memcpy(&control_->ldt, &d, sizeof d);
  return command(DE_CMD_SET_LDT);
}

void DeProcess::kick() noexcept {
  if (!entered_.load()) return;
  kicked_.store(true);
  std::atomic_ref<uint32_t>(control_->kick).store(1, std::memory_order_release);
  syscall(SYS_pidfd_send_signal, pidfd_, DE_KICK_SIGNAL, nullptr, 0);
}

DeProcess::Exit DeProcess::enter(Regs& regs, uint8_t (&fpu)[512]) {
  if (regs.rip >> 32) throw std::invalid_argument("direct-execution process: rip above 4 GiB");
  copy_regs(control_->regs, regs);
  std::memcpy(control_->fpu, fpu, sizeof fpu);
  std::memset(&control_->exit, 0, sizeof control_->exit);
  std::atomic_ref<uint32_t>(control_->kick).store(0, std::memory_order_relaxed);
  kicked_.store(false);
  entered_.store(true);
  struct Clear {
    std::atomic<bool>& e;
    ~Clear() { e.store(false); }
  } clear{entered_};
  if (pending_ && __atomic_load_n(pending_, __ATOMIC_SEQ_CST) != 0) {
    Exit x;
    x.kind = Exit::Kind::Bailed;
    return x;
  }
  if (int rc = command(DE_CMD_ENTER); rc != 0) hostile("ENTER answered " + std::to_string(rc));
  return checked_exit(regs, fpu, regs.cs != DE_HOST_CS64);
}

// The exit record, copied out of the shared page once and then checked: a kind the stub
// writes, with the signals it can carry. Registers and the FPU image are whatever the code
// left (the caller judges them; 64-bit values and any selector are possible).
DeProcess::Exit DeProcess::checked_exit(Regs& regs, uint8_t (&fpu)[512], bool compat) {
  de_stub_exit_record e;
  de_stub_regs r;
  std::memcpy(&e, const_cast<const de_stub_exit_record*>(&control_->exit), sizeof e);
  std::memcpy(&r, const_cast<const de_stub_regs*>(&control_->regs), sizeof r);
  std::memcpy(fpu, control_->fpu, sizeof fpu);
  auto sync = [](int s) {
    return s == SIGILL || s == SIGTRAP || s == SIGBUS || s == SIGFPE || s == SIGSEGV || s == SIGSYS;
  };
  Exit x;
  x.signo = e.signo;
  x.code = e.code;
  x.trapno = e.trapno;
  x.err = e.err;
  x.addr = e.addr;
  bool ok = e.trapno >= 0 && e.trapno < 32;
  switch (e.kind) {
    case DE_EXIT_TRAP:
      x.kind = Exit::Kind::Trap;
      ok &= sync(e.signo);
      if (e.signo == SIGSYS) {
        ok &= e.syscall_arch == AUDIT_ARCH_I386;
        x.syscall_nr = e.syscall_nr;
      }
      break;
    case DE_EXIT_KICK:
      x.kind = Exit::Kind::Kick;
      ok &= e.signo == DE_KICK_SIGNAL && kicked_.load();
      break;
    case DE_EXIT_BAILED:
      x.kind = Exit::Kind::Bailed;
      ok &= (e.signo == 0 || e.signo == DE_KICK_SIGNAL) && kicked_.load();
      break;
    case DE_EXIT_ENTRY_FAULT:
      x.kind = Exit::Kind::EntryFault;
      ok &= sync(e.signo) && e.signo != SIGSYS;
      break;
    default:
      ok = false;
  }
  if (!ok)
    hostile(fmt::format("impossible exit record (kind {}, signal {}, trap {}, arch {:#x})", e.kind,
                        e.signo, e.trapno, e.syscall_arch));
  const bool has_regs = x.kind == Exit::Kind::Trap || x.kind == Exit::Kind::Kick;
  if (const char* why = nullptr;
      compat && has_regs && r.cs != DE_HOST_CS64 && !de::plausible_compat_exit(r, e.signo, &why))
    hostile(
        fmt::format("impossible register state for compatibility-mode code ({}: rip {:#x} "
                    "rflags {:#x} cs {:#x} ss {:#x})",
                    why, r.rip, r.rflags, r.cs, r.ss));
  copy_regs(regs, r);
  return x;
}

}  // namespace hostexec
