// The monitor's side of the confined direct-execution process: lifetime (spawn, confine, kill,
// reap), commands over the shared control page, and death detection through a pidfd.
#include "hostexec/de_process.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

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
  }
  return "unexpected exit";
}

}  // namespace

std::string DeProcess::Death::describe() const {
  if (signal == 0)
    return "direct-execution process exited with status " + std::to_string(exit_status) + " (" +
           stub_exit_reason(exit_status) + ")";
  std::string s = "direct-execution process killed by signal " + std::to_string(signal);
  if (const char* name = sigabbrev_np(signal)) s += std::string(" (SIG") + name + ")";
  if (signal == SIGSYS) s += ": a system call its seccomp filter forbids";
  return s;
}

DeProcess::Died::Died(const Death& d) : std::runtime_error(d.describe()), death(d) {}

DeProcess::DeProcess(int ram_fd) {
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
    hello_and_confine();
  } catch (...) {
    shutdown();
    throw;
  }
}

// The stub reports where its syscall instruction is; the filter allows system calls only from
// there. Until CONFINE succeeds the stub serves nothing else.
void DeProcess::hello_and_confine() {
  if (command(DE_CMD_HELLO) != 0) throw std::runtime_error("direct-execution stub: no hello");
  const uint64_t next = control_->syscall_next;
  if (control_->image_start < DE_WINDOW_END || next < control_->image_start ||
      next >= control_->image_end || control_->syscall_insn + 2 != next)
    throw std::runtime_error("direct-execution stub: implausible addresses in its hello");
  syscall_insn_ = control_->syscall_insn;
  const std::vector<sock_filter> filter = de::stub_filter(next);
  std::memcpy(control_->filter, filter.data(), filter.size() * sizeof(sock_filter));
  control_->filter_len = uint32_t(filter.size());
  if (int r = command(DE_CMD_CONFINE); r != 0) throw error("installing its seccomp filter", -r);
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
  if (control_) munmap(control_, kPage);
  control_ = nullptr;
  if (control_fd_ >= 0) close(control_fd_);
  control_fd_ = -1;
}

// Waits for the stub to end and records how; a no-op once recorded.
void DeProcess::reap() {
  if (death_) return;
  siginfo_t si{};
  int r;
  do r = waitid(P_PIDFD, id_t(pidfd_), &si, WEXITED);
  while (r < 0 && errno == EINTR);
  Death d;
  if (r == 0 && si.si_code == CLD_EXITED)
    d.exit_status = si.si_status;
  else
    d.signal = r == 0 ? si.si_status : SIGKILL;  // ECHILD: someone else reaped it
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

int DeProcess::command(uint32_t cmd) {
  if (!alive()) throw Died(*death_);
  control_->cmd = cmd;
  const uint32_t seq = ++seq_;
  std::atomic_ref<uint32_t>(control_->seq).store(seq, std::memory_order_release);
  futex(&control_->seq, FUTEX_WAKE, 1, nullptr);
  await(seq);
  return control_->result;
}

// Futex-waits for done == seq. A dead stub never answers: the wait times out now and then to
// look at the pidfd (a wake costs nothing extra; only a death is seen late, by up to 20 ms).
void DeProcess::await(uint32_t seq) {
  std::atomic_ref<uint32_t> done(control_->done);
  for (;;) {
    const uint32_t d = done.load(std::memory_order_acquire);
    if (d == seq) return;
    const timespec tick{0, 20'000'000};
    futex(&control_->done, FUTEX_WAIT, d, &tick);
    if (!alive()) throw Died(*death_);
  }
}

int DeProcess::map(uint64_t addr, uint64_t ram_offset, uint64_t len, int prot) {
  if (!window_range(addr, len) || !plain_prot(prot) || ram_offset % kPage != 0 ||
      ram_offset > ram_size_ || len > ram_size_ - ram_offset)
    return -EINVAL;
  control_->addr = addr;
  control_->len = len;
  control_->offset = ram_offset;
  control_->prot = uint32_t(prot);
  return command(DE_CMD_MAP);
}

int DeProcess::protect(uint64_t addr, uint64_t len, int prot) {
  if (!window_range(addr, len) || !plain_prot(prot)) return -EINVAL;
  control_->addr = addr;
  control_->len = len;
  control_->prot = uint32_t(prot);
  return command(DE_CMD_PROTECT);
}

int DeProcess::unmap(uint64_t addr, uint64_t len) {
  if (!window_range(addr, len)) return -EINVAL;
  control_->addr = addr;
  control_->len = len;
  return command(DE_CMD_UNMAP);
}

void DeProcess::ping() {
  command(DE_CMD_HELLO);
}

int DeProcess::run_test_code(uint64_t addr) {
  if (addr >= DE_WINDOW_END) return -EINVAL;
  control_->addr = addr;
  return command(DE_CMD_RUN_TEST);
}

}  // namespace hostexec
