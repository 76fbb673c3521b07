#include "de_stub_spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "de_stub_abi.h"

// de_stub_image.S: the stub executable's bytes.
extern "C" const unsigned char bt86_de_stub_image[];
extern "C" const unsigned char bt86_de_stub_image_end[];

namespace hostexec::de {

namespace {

std::runtime_error error(const std::string& what, int err) {
  return std::runtime_error("direct-execution stub: " + what + ": " + std::strerror(err));
}

// A sealed memfd holding the stub executable, executed as /proc/self/fd/N.
int image_fd() {
  int fd = memfd_create("bt86-de-stub", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) throw error("memfd_create", errno);
  const unsigned char* p = bt86_de_stub_image;
  const size_t size = size_t(bt86_de_stub_image_end - bt86_de_stub_image);
  for (size_t done = 0; done < size;) {
    ssize_t n = write(fd, p + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      close(fd);
      throw error("writing its image", e);
    }
    done += size_t(n);
  }
  fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
  return fd;
}

// Temporary copies at 10 and above, so that no dup2 in the child overwrites another's source.
int high_copy(int fd) {
  int c = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  if (c < 0) throw error("fcntl(F_DUPFD_CLOEXEC)", errno);
  return c;
}

struct Fds {
  int fd[3] = {-1, -1, -1};
  ~Fds() {
    for (int f : fd)
      if (f >= 0) close(f);
  }
};

}  // namespace

pid_t spawn_stub(int ram_fd, int control_fd) {
  Fds tmp;
  tmp.fd[0] = high_copy(ram_fd);
  tmp.fd[1] = high_copy(control_fd);
  const int image = image_fd();
  tmp.fd[2] = high_copy(image);
  close(image);

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_adddup2(&fa, tmp.fd[0], DE_STUB_RAM_FD);
  posix_spawn_file_actions_adddup2(&fa, tmp.fd[1], DE_STUB_CONTROL_FD);
  posix_spawn_file_actions_adddup2(&fa, tmp.fd[2], DE_STUB_IMAGE_FD);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  const std::string monitor = std::to_string(getpid());
  const std::string path = "/proc/self/fd/" + std::to_string(DE_STUB_IMAGE_FD);
  char* argv[] = {const_cast<char*>("bt86-de-stub"), const_cast<char*>(monitor.c_str()), nullptr};
  char* envp[] = {nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, path.c_str(), &fa, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw error("posix_spawn", rc);
  return pid;
}

}  // namespace hostexec::de
