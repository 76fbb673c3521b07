// The seccomp filter that turns every 32-bit system call into SIGSYS (DESIGN §4.2): guest user
// code's `int 0x80` (and compat-mode syscall) enter the host kernel as i386 system calls, which
// must never run. The monitor's own (x86-64) system calls are allowed. The filter cannot be
// removed, so it is installed once per process, when direct execution is first set up.
#include <seccomp.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace hostexec::de {

void install_syscall_trap_filter() {
  static bool installed = false;
  if (installed) return;
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);  // the native (x86-64) ABI only
  if (!ctx) throw std::runtime_error("seccomp_init failed");
  // A system call from any ABI the filter does not list (i386 here) gets SIGSYS.
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
  if (rc == 0) rc = seccomp_load(ctx);
  seccomp_release(ctx);
  if (rc != 0)
    throw std::runtime_error(std::string("cannot install the seccomp filter for direct "
                                         "execution: ") +
                             std::strerror(-rc));
  installed = true;
}

}  // namespace hostexec::de
