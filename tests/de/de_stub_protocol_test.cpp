// The stub program's own side of its contract (hostexec/de_stub/), driven here without
// DeProcess: it serves nothing but HELLO and CONFINE until confined, refuses window ranges
// outside [0, 8 GiB) itself (its filter would kill it if it asked the kernel), and cannot be
// confined twice. And it does not outlive its monitor.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

#include "de_stub_abi.h"
#include "de_stub_filter.h"
#include "de_stub_spawn.h"
#include "hostexec/de_process.h"

namespace {

// A bare driver: one command at a time, waiting (with the pidfd watched) for the answer.
class Driver {
 public:
  Driver() {
    ram_ = memfd_create("bt86-test-ram", MFD_CLOEXEC);
    control_fd_ = memfd_create("bt86-test-control", MFD_CLOEXEC);
    if (ram_ < 0 || control_fd_ < 0 || ftruncate(ram_, 1 << 20) != 0 ||
        ftruncate(control_fd_, 4096) != 0)
      throw std::runtime_error("memfd");
    void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, control_fd_, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap");
    c_ = static_cast<de_stub_control*>(p);
    pid_ = hostexec::de::spawn_stub(ram_, control_fd_);
    pidfd_ = int(syscall(SYS_pidfd_open, pid_, 0));
  }
  ~Driver() {
    if (listener_ >= 0) close(listener_);
    syscall(SYS_pidfd_send_signal, pidfd_, SIGKILL, nullptr, 0);
    siginfo_t si;
    waitid(P_PIDFD, id_t(pidfd_), &si, WEXITED);
    close(pidfd_);
    munmap(c_, 4096);
    close(control_fd_);
    close(ram_);
  }
  de_stub_control* c() { return c_; }
  // The stub's answer; ADD_FAILUREs and returns INT32_MIN if it died instead.
  int32_t send(uint32_t cmd) {
    c_->cmd = cmd;
    const uint32_t seq = ++seq_;
    std::atomic_ref<uint32_t>(c_->seq).store(seq, std::memory_order_release);
    syscall(SYS_futex, &c_->seq, FUTEX_WAKE, 1, nullptr, nullptr, 0);
    std::atomic_ref<uint32_t> done(c_->done);
    for (;;) {
      const uint32_t d = done.load(std::memory_order_acquire);
      if (d == seq) return c_->result;
      const timespec tick{0, 20'000'000};
      syscall(SYS_futex, &c_->done, FUTEX_WAIT, d, &tick, nullptr, 0);
      let_held_calls_through();
      pollfd pfd{pidfd_, POLLIN, 0};
      if (poll(&pfd, 1, 0) > 0) {
        ADD_FAILURE() << "the stub died";
        return INT32_MIN;
      }
    }
  }
  int32_t confine() {
    const std::vector<sock_filter> f = hostexec::de::stub_filter(c_->syscall_next);
    std::memcpy(c_->filter, f.data(), f.size() * sizeof(sock_filter));
    c_->filter_len = uint32_t(f.size());
    const int32_t r = send(DE_CMD_CONFINE);
    if (r == 0) listener_ = int(syscall(SYS_pidfd_getfd, pidfd_, c_->listener, 0));
    return r;
  }
  // The filter holds the stub's mmap and mprotect for the monitor (DeProcess checks them
  // against what it asked for); this driver lets every one through.
  void let_held_calls_through() {
    pollfd pfd{listener_, POLLIN, 0};
    if (listener_ < 0 || poll(&pfd, 1, 0) <= 0) return;
    seccomp_notif n{};
    if (ioctl(listener_, SECCOMP_IOCTL_NOTIF_RECV, &n) != 0) return;
    seccomp_notif_resp r{};
    r.id = n.id;
    r.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    ioctl(listener_, SECCOMP_IOCTL_NOTIF_SEND, &r);
  }
  void window(uint64_t addr, uint64_t len) {
    c_->addr = addr;
    c_->len = len;
    c_->offset = 0;
    c_->prot = PROT_READ;
  }

 private:
  int ram_ = -1, control_fd_ = -1, pidfd_ = -1, listener_ = -1;
  pid_t pid_ = -1;
  uint32_t seq_ = 0;
  de_stub_control* c_ = nullptr;
};

TEST(DeStubProtocol, ServesOnlyHelloAndConfineUntilConfined) {
  Driver d;
  ASSERT_EQ(d.send(DE_CMD_HELLO), 0);
  EXPECT_EQ(d.c()->syscall_insn + 2, d.c()->syscall_next);
  EXPECT_EQ(d.c()->image_start, DE_STUB_BASE);
  d.window(0x10000, 0x1000);
  EXPECT_EQ(d.send(DE_CMD_MAP), -EPERM);
  EXPECT_EQ(d.send(DE_CMD_PROTECT), -EPERM);
  EXPECT_EQ(d.send(DE_CMD_UNMAP), -EPERM);
  EXPECT_EQ(d.send(DE_CMD_ENTER), -EPERM);
  EXPECT_EQ(d.send(DE_CMD_SET_LDT), -EPERM);
  EXPECT_EQ(d.send(DE_CMD_WINDOW), -EPERM);
  d.c()->filter_len = 0;
  EXPECT_EQ(d.send(DE_CMD_CONFINE), -EINVAL);
  d.c()->filter_len = DE_STUB_MAX_FILTER + 1;
  EXPECT_EQ(d.send(DE_CMD_CONFINE), -EINVAL);
  EXPECT_EQ(d.send(99), -EPERM);
  ASSERT_EQ(d.confine(), 0);
  EXPECT_EQ(d.confine(), -EALREADY);
  EXPECT_EQ(d.send(99), -ENOSYS);
  d.window(0x10000, 0x1000);
  EXPECT_EQ(d.send(DE_CMD_MAP), 0);
}

// Each of these would be a kill by the filter if the stub passed it on to the kernel.
TEST(DeStubProtocol, RefusesRangesOutsideTheWindowItself) {
  Driver d;
  ASSERT_EQ(d.send(DE_CMD_HELLO), 0);
  ASSERT_EQ(d.confine(), 0);
  const struct {
    uint64_t addr, len;
  } bad[] = {{DE_WINDOW_END, 0x1000},   {DE_WINDOW_END - 0x1000, 0x2000},
             {0xfffff000, 0x100002000}, {0x1000, ~0ull & ~0xfffull},
             {DE_STUB_CONTROL, 0x1000}, {0x10000, 0}};
  for (const auto& b : bad) {
    SCOPED_TRACE(b.addr);
    d.window(b.addr, b.len);
    EXPECT_EQ(d.send(DE_CMD_MAP), -EINVAL);
    EXPECT_EQ(d.send(DE_CMD_PROTECT), -EINVAL);
    EXPECT_EQ(d.send(DE_CMD_UNMAP), -EINVAL);
  }
  d.window(0x10000, 0x1000);
  d.c()->prot = PROT_READ | PROT_GROWSDOWN;
  EXPECT_EQ(d.send(DE_CMD_MAP), -EINVAL);
  EXPECT_EQ(d.send(DE_CMD_PROTECT), -EINVAL);
  d.c()->count = DE_STUB_MAX_WINDOW_OPS + 1;
  EXPECT_EQ(d.send(DE_CMD_WINDOW), -EINVAL);
  d.c()->count = 1;  // a batch op outside the window: refused by the stub, not the filter
  d.c()->ops[0] = de_stub_window_op{DE_CMD_MAP, PROT_READ, DE_WINDOW_END, 0x1000, 0};
  EXPECT_EQ(d.send(DE_CMD_WINDOW), -EINVAL);
  EXPECT_EQ(d.c()->failed, 0u);
  d.c()->regs.rip = 1ull << 32;  // entered code runs below 4 GiB
  EXPECT_EQ(d.send(DE_CMD_ENTER), -EINVAL);
  d.window(DE_WINDOW_END - 0x1000, 0x1000);  // the last page of the guard is fine
  EXPECT_EQ(d.send(DE_CMD_MAP), 0);
  EXPECT_EQ(d.send(DE_CMD_HELLO), 0);
}

// A monitor that dies without its destructor (a crash, SIGKILL) takes its stub with it.
TEST(DeStubProtocol, StubDiesWithItsMonitor) {
  int pipefd[2];
  ASSERT_EQ(pipe2(pipefd, O_CLOEXEC), 0);
  const pid_t monitor = fork();
  ASSERT_GE(monitor, 0);
  if (monitor == 0) {
    const int ram = memfd_create("bt86-test-ram", MFD_CLOEXEC);
    if (ram < 0 || ftruncate(ram, 1 << 20) != 0) _exit(1);
    pid_t stub = -1;
    try {
      stub = (new hostexec::DeProcess(ram))->pid();  // never destroyed
    } catch (...) {
      _exit(1);
    }
    if (write(pipefd[1], &stub, sizeof stub) != sizeof stub) _exit(1);
    pause();  // until the test kills this monitor
    _exit(0);
  }
  close(pipefd[1]);
  pid_t stub = -1;
  const ssize_t got = read(pipefd[0], &stub, sizeof stub);
  close(pipefd[0]);
  if (got != ssize_t(sizeof stub)) {
    kill(monitor, SIGKILL);
    waitpid(monitor, nullptr, 0);
    FAIL() << "the forked monitor could not start a stub";
  }
  const int stub_fd = int(syscall(SYS_pidfd_open, stub, 0));
  ASSERT_GE(stub_fd, 0);
  ASSERT_EQ(kill(monitor, SIGKILL), 0);
  ASSERT_EQ(waitpid(monitor, nullptr, 0), monitor);
  // Not a timing assumption: the kernel kills the stub as part of the monitor's exit; the
  // generous bound only keeps a broken build from hanging ctest.
  pollfd pfd{stub_fd, POLLIN, 0};
  const int ready = poll(&pfd, 1, 30'000);
  EXPECT_EQ(ready, 1) << "the stub outlived its monitor";
  if (ready != 1) syscall(SYS_pidfd_send_signal, stub_fd, SIGKILL, nullptr, 0);  // leave none
  close(stub_fd);
}

}  // namespace
