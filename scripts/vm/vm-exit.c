// vm-exit: the last thing the VM's /init runs. It waits until every tty named on the command
// line has sent all its output (so the host's log files are complete), then writes the status
// to QEMU's isa-debug-exit port (0xf4), which ends QEMU at once with exit code (value << 1) | 1.
// Built by run-in-vm.sh with the host's gcc as a static x86-64 program.
//   usage: vm-exit STATUS [TTY...]
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>
#include <termios.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: vm-exit STATUS [TTY...]\n");
    return 2;
  }
  int status = atoi(argv[1]);
  for (int i = 2; i < argc; i++) {
    int fd = open(argv[i], O_WRONLY | O_NOCTTY);
    if (fd >= 0) {
      tcdrain(fd);
      close(fd);
    }
  }
  if (ioperm(0xf4, 4, 1) != 0) {
    perror("vm-exit: ioperm");
    return 1;
  }
  // QEMU's exit code is 8 bits: keep 7 bits of the status so (v << 1) | 1 fits. The exact
  // status also goes to the console as a marker line, which the host prefers.
  outb((unsigned char)(status & 0x7f), 0xf4);
  fprintf(stderr, "vm-exit: isa-debug-exit device did not stop the VM\n");
  return 1;
}
