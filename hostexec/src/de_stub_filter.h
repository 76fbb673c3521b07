// The seccomp filter of the direct-execution stub's process (de_stub/, SECURITY.md): which
// system calls the confined process may make at all. Built by the monitor, installed by the
// stub (DE_CMD_CONFINE) before any guest code runs there.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <vector>

namespace hostexec::de {

// An i386 system call (int 0x80 from entered code) traps: SIGSYS to the stub's handler, never
// run. Any other survives only if it is x86-64, made by the instruction just before
// `syscall_next` (the stub's one `syscall`), and one of: mmap of the RAM descriptor
// (MAP_SHARED|MAP_FIXED), mprotect or munmap, each inside [0, DE_WINDOW_END) with protection
// bits R/W/X only; futex WAIT/WAKE on the control page's seq or done word; modify_ldt(1) of
// the control page's one descriptor; rt_sigreturn; exit_group. Anything else kills the process
// (SECCOMP_RET_KILL_PROCESS). mmap, and mprotect to anything but PROT_NONE, which can grant
// access to guest RAM, then wait for the monitor (SECCOMP_RET_USER_NOTIF; the stub installs the
// filter with a listener the monitor takes): it lets through only the window change it asked for.
// With `approve_maps` false, mmap and mprotect inside those rules are allowed at once (the
// cheaper default; see DeProcess).
std::vector<sock_filter> stub_filter(uint64_t syscall_next, bool approve_maps = true);

}  // namespace hostexec::de
