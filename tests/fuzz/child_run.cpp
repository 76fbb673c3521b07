#include "child_run.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

#ifdef BT86_LIBFUZZER
// The inline 8-bit counters of -fsanitize=fuzzer(-no-link): one section, bounded by these
// linker-made symbols (libFuzzer registers the same range).
extern "C" {
extern uint8_t __start___sancov_cntrs[] __attribute__((visibility("hidden")));
extern uint8_t __stop___sancov_cntrs[] __attribute__((visibility("hidden")));
void __sanitizer_set_death_callback(void (*callback)(void));
}
#endif

namespace fuzz {

namespace {

[[noreturn]] void harness_failure(const char* what) {
  std::fprintf(stderr, "fuzz harness: %s: %s\n", what, std::strerror(errno));
  std::abort();
}

// The child's coverage, handed back through a shared mapping when it ends normally. A child
// that dies is a finding in itself: its coverage does not matter then.
class SharedCoverage {
 public:
  SharedCoverage() {
#ifdef BT86_LIBFUZZER
    size_ = size_t(__stop___sancov_cntrs - __start___sancov_cntrs);
    void* p =
        mmap(nullptr, size_ ? size_ : 1, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) harness_failure("mmap of the shared coverage counters");
    shared_ = static_cast<uint8_t*>(p);
#endif
  }
  void before_fork() {
    if (shared_) std::memset(shared_, 0, size_);
  }
  void child_done() {
#ifdef BT86_LIBFUZZER
    std::memcpy(shared_, __start___sancov_cntrs, size_);
#endif
  }
  void merge() {
#ifdef BT86_LIBFUZZER
    for (size_t i = 0; i < size_; ++i)
      __start___sancov_cntrs[i] = std::max(__start___sancov_cntrs[i], shared_[i]);
#endif
  }

 private:
  uint8_t* shared_ = nullptr;
  size_t size_ = 0;
};

// Exit status of a child whose body let an exception escape.
constexpr int kEscapedException = 71;

[[noreturn]] void child_main(const std::function<int()>& body, int err_fd, SharedCoverage& cov) {
  // The parent's handlers (libFuzzer's, the sanitizers') must not run here: a crash in the
  // child is the parent's to report. All signals are blocked until they are gone.
  for (int sig = 1; sig < NSIG; ++sig)
    if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  const rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
#ifdef BT86_LIBFUZZER
  __sanitizer_set_death_callback(+[] { std::abort(); });  // a sanitizer report: SIGABRT
#endif
  const int null_fd = open("/dev/null", O_RDWR);
  if (null_fd < 0) _exit(kEscapedException);
  dup2(null_fd, STDIN_FILENO);
  dup2(null_fd, STDOUT_FILENO);
  dup2(err_fd, STDERR_FILENO);
  int status;
  try {
    status = body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz child: uncaught exception: %s\n", e.what());
    status = kEscapedException;
  } catch (...) {
    std::fprintf(stderr, "fuzz child: uncaught exception of unknown type\n");
    status = kEscapedException;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  cov.child_done();
  _exit(status);  // not exit(): the parent's atexit handlers (libFuzzer's) are not ours to run
}

// Waits up to `ms` for the child to end; true (with its status) if it did.
bool wait_for(pid_t pid, int pidfd, int ms, int& status) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::milliseconds(ms);
  for (;;) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) harness_failure("waitpid");
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    if (left <= 0) return false;
    pollfd p{pidfd, POLLIN, 0};
    if (poll(&p, 1, int(left)) < 0 && errno != EINTR) harness_failure("poll on the child");
  }
}

std::string read_all(int fd) {
  std::string s;
  char buf[4096];
  if (lseek(fd, 0, SEEK_SET) < 0) harness_failure("lseek");
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0 && s.size() < (1u << 20);) s.append(buf, n);
  return s;
}

}  // namespace

ChildResult run_in_child(const std::function<int()>& body, const ChildLimits& limits) {
  static const int err_fd = memfd_create("fuzz-child-stderr", MFD_CLOEXEC);
  static SharedCoverage cov;
  if (err_fd < 0) harness_failure("memfd_create");
  if (ftruncate(err_fd, 0) != 0 || lseek(err_fd, 0, SEEK_SET) != 0) harness_failure("ftruncate");
  cov.before_fork();
  std::fflush(stdout);
  std::fflush(stderr);
  // Signals wait until the child has its own dispositions: until then it has the parent's
  // (libFuzzer's), which would take a SIGTERM for the parent's own.
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);
  const pid_t pid = fork();
  if (pid == 0) child_main(body, err_fd, cov);
  sigprocmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) harness_failure("fork");

  const int pidfd = int(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) harness_failure("pidfd_open (Linux 5.3 or later is needed)");
  ChildResult r;
  int status = 0;
  if (!wait_for(pid, pidfd, limits.run_ms, status)) {
    kill(pid, SIGTERM);
    r.terminated = true;
    if (!wait_for(pid, pidfd, limits.grace_ms, status)) {
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      r.kind = ChildResult::Kind::IgnoredSigterm;
    }
  }
  close(pidfd);
  if (r.kind != ChildResult::Kind::IgnoredSigterm) {
    if (WIFEXITED(status)) {
      r.kind = ChildResult::Kind::Exited;
      r.code = WEXITSTATUS(status);
      cov.merge();
    } else {
      r.kind = ChildResult::Kind::Signaled;
      r.code = WTERMSIG(status);
    }
  }
  r.stderr_text = read_all(err_fd);
  return r;
}

}  // namespace fuzz
