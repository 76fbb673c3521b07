// Whether this host can run 32-bit compatibility-mode code in a user process at all.
//
// Direct execution and the differential tests' native runs need it. Some hosts cannot: kernels
// booted with ia32_emulation=false, and paravirtualized guests (PVM) whose user mode has no
// 32-bit code segment. There, an iretq to the compat selector faults.
#pragma once

#include <string>

namespace hostexec {

// Probes once per process (in a forked child, so a failure cannot hurt the caller). On false,
// `why` says what went wrong.
bool compat_mode_available(std::string* why = nullptr);

}  // namespace hostexec
