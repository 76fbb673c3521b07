// Whether registers an exit record reports can be what compatibility-mode code left (SECURITY.md:
// code that took over the stub can write any record; one it writes carelessly is caught here,
// before anything of it reaches the vCPU).
#pragma once

#include "de_stub_abi.h"

namespace hostexec::de {

// `r` as the record gives it after code entered in compatibility mode exited with `signo`
// through a host signal (not in 64-bit mode: that is an escape, reported as such). False, with
// `why`, for what no compat-mode code can leave: a rip or a register above 32 bits (every
// 32-bit write zero-extends; the host kernel puts -ENOSYS in rax for SIGSYS), EFLAGS as no
// host user mode runs (IF clear, IOPL, VM, a bit that does not exist), a CS that is neither
// the host's 32-bit one nor an LDT selector, an SS or CS with an RPL other than 3.
bool plausible_compat_exit(const de_stub_regs& r, int signo, const char** why);

}  // namespace hostexec::de
