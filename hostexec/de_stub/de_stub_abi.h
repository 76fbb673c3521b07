/* The contract between the direct-execution stub (this folder, a separate static program) and
   its monitor (src/de_process.cpp): fixed addresses and file descriptors, the commands, and the
   layout of the control page they share. Plain C, included by both sides. */
#ifndef BT86_DE_STUB_ABI_H
#define BT86_DE_STUB_ABI_H

#include <linux/filter.h>
#include <stdint.h>

/* The guest window and its guard, [0, 8 GiB): the only range the stub maps guest RAM into and
   the only range its seccomp filter lets mmap/mprotect/munmap touch. */
#define DE_WINDOW_END 0x200000000ull
/* The stub's own image is linked here (-Ttext-segment), above the window. */
#define DE_STUB_BASE 0x400000000ull
/* Where the stub maps the control page (the memfd it inherits as DE_STUB_CONTROL_FD). */
#define DE_STUB_CONTROL 0x300000000ull

/* Descriptors the stub inherits; it closes every other one. */
#define DE_STUB_RAM_FD 3     /* guest RAM (memfd) */
#define DE_STUB_CONTROL_FD 4 /* the control page (memfd); closed once mapped */
#define DE_STUB_IMAGE_FD 5   /* the stub's own image, executed as /proc/self/fd/5 */

/* Commands (de_stub_control.cmd). Nothing but HELLO and CONFINE is served before CONFINE. */
enum de_stub_cmd {
  DE_CMD_HELLO = 1,    /* report the stub's addresses; also a no-op round trip */
  DE_CMD_CONFINE = 2,  /* install filter[0, filter_len) (no_new_privs + seccomp) */
  DE_CMD_MAP = 3,      /* mmap(addr, len, prot, MAP_SHARED|MAP_FIXED, RAM, offset) */
  DE_CMD_PROTECT = 4,  /* mprotect(addr, len, prot) */
  DE_CMD_UNMAP = 5,    /* munmap(addr, len) */
  DE_CMD_RUN_TEST = 6, /* TEST ONLY: call 64-bit code at addr (in the window); it may return */
};

/* Why the stub exited on its own before serving (its exit status), for the monitor's report. */
enum de_stub_exit {
  DE_EXIT_SHED_MEMORY = 101, /* could not unmap the stack, vDSO and vvar */
  DE_EXIT_SETUP = 102,       /* prctl/prlimit failed */
  DE_EXIT_CONTROL = 103,     /* could not map the control page */
  DE_EXIT_ORPHAN = 104,      /* its monitor was already gone */
};

#define DE_STUB_MAX_FILTER 256

/* One page, shared. The monitor posts a command by filling the fields and incrementing seq
   (futex-woken); the stub answers with result and sets done = seq (futex-woken). Once guest
   code has run in the stub, everything here is hostile input to the monitor. */
struct de_stub_control {
  uint32_t seq;
  uint32_t done;
  uint32_t cmd;
  int32_t result; /* 0 or -errno */
  uint64_t addr;
  uint64_t len;
  uint64_t offset;
  uint32_t prot;
  uint32_t filter_len;
  /* Reported by HELLO. */
  uint64_t syscall_insn; /* the stub's one `syscall` instruction */
  uint64_t syscall_next; /* the address after it: seccomp's instruction_pointer */
  uint64_t image_start;
  uint64_t image_end;
  struct sock_filter filter[DE_STUB_MAX_FILTER];
};

#endif
