// SIGTERM / SIGINT outside the run loop end bt86 with status 130 and "bt86: interrupted", like
// during the run: while it loads a module from a FIFO that never delivers, and while it writes
// its final statistics into a full pipe. Each signal is sent once bt86 is known to be in that
// phase (the FIFO's other end opened; the first statistics byte read), never after a sleep.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/bt86-interrupt-XXXXXX";
    if (!mkdtemp(tmpl)) std::abort();
    path = tmpl;
  }
  ~TempDir() { (void)std::system(("rm -rf " + path).c_str()); }
};

// bt86 with `args`, stdout to /dev/null and stderr to `err`.
pid_t spawn(const std::vector<std::string>& args, const std::string& err) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  int null = open("/dev/null", O_WRONLY);
  int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  dup2(null, STDOUT_FILENO);
  dup2(e, STDERR_FILENO);
  std::vector<char*> argv;
  std::string exe = BT86_EXE;
  argv.push_back(exe.data());
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  _exit(127);
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Whether bt86 is still running (it must be, until we signal it).
bool running(pid_t pid) {
  int status;
  return waitpid(pid, &status, WNOHANG) == 0;
}

void expect_interrupted(pid_t pid, int sig, const std::string& err) {
  ASSERT_EQ(kill(pid, sig), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  if (WIFEXITED(status)) {
    EXPECT_EQ(WEXITSTATUS(status), 130);
  }
  EXPECT_NE(slurp(err).find("bt86: interrupted"), std::string::npos) << slurp(err);
}

void interrupt_while_loading(int sig) {
  TempDir dir;
  const std::string fifo = dir.path + "/module", err = dir.path + "/stderr";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  pid_t pid = spawn({"run", "--kernel", HELLO_ELF, "--initrd", fifo}, err);
  // Ready: bt86 has opened the FIFO for reading (a writer's non-blocking open fails with ENXIO
  // until then). The write end stays open and silent: bt86 waits in read().
  int w = -1;
  const timespec pause{0, 1000000};
  while ((w = open(fifo.c_str(), O_WRONLY | O_NONBLOCK)) < 0) {
    ASSERT_EQ(errno, ENXIO);
    ASSERT_TRUE(running(pid)) << slurp(err);
    nanosleep(&pause, nullptr);
  }
  expect_interrupted(pid, sig, err);
  close(w);
}

TEST(InterruptPhases, SigtermWhileLoadingAModule) {
  interrupt_while_loading(SIGTERM);
}

TEST(InterruptPhases, SigintWhileLoadingAModule) {
  interrupt_while_loading(SIGINT);
}

TEST(InterruptPhases, SigtermWhileWritingTheFinalStatistics) {
  TempDir dir;
  const std::string fifo = dir.path + "/stats", err = dir.path + "/stderr";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // The pipe exists once this end is open: one page of room, so the statistics (about 9 KB of
  // JSON with 500 hottest units) block bt86 after its run.
  int r = open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(r, 0);
  ASSERT_EQ(fcntl(r, F_SETPIPE_SZ, 4096), 4096);
  pid_t pid = spawn({"run", "--kernel", HELLO_ELF, "--stats=json", "--stats-file", fifo,
                     "--count-insns", "--hottest", "500"},
                    err);
  // Ready: the first byte of the statistics, written after the run loop.
  pollfd p{r, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 60000), 1) << slurp(err);
  char c;
  ASSERT_EQ(read(r, &c, 1), 1);
  EXPECT_EQ(c, '{');
  ASSERT_TRUE(running(pid)) << "the statistics fit the pipe: the test needs more of them";
  expect_interrupted(pid, SIGTERM, err);
  close(r);
}

}  // namespace
