/* The contract between the direct-execution stub (this folder, a separate static program) and
   its monitor (src/de_process.cpp): fixed addresses and file descriptors, the commands, and the
   layout of the control page they share. Plain C, included by both sides. */
#ifndef BT86_DE_STUB_ABI_H
#define BT86_DE_STUB_ABI_H

#ifndef __ASSEMBLER__
#include <linux/filter.h>
#include <stdint.h>
#endif

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

/* The signal the monitor sends to interrupt code running in the stub (a "kick"): it sets
   de_stub_control.kick first, so a kick that lands before guest code is entered is not lost. */
#define DE_KICK_SIGNAL 10 /* SIGUSR1 */

/* The host's selectors the stub uses for itself (x86-64 Linux __USER_CS, __USER_DS). */
#define DE_HOST_CS64 0x33
#define DE_HOST_DS 0x2b

/* How one ENTER ended (de_stub_exit.kind). */
#define DE_EXIT_TRAP 1        /* a synchronous signal from entered code (signo etc. say which) */
#define DE_EXIT_KICK 2        /* DE_KICK_SIGNAL interrupted entered code */
#define DE_EXIT_BAILED 3      /* the kick was seen before entered code ran */
#define DE_EXIT_ENTRY_FAULT 4 /* loading the entry state faulted (a selector the CPU refused) */

/* Offsets into de_stub_control for the stub's assembly (checked by static asserts). */
#define DE_OFF_KICK 16
#define DE_OFF_REGS 96
#define DE_OFF_REGS_RIP (DE_OFF_REGS + 64)
#define DE_OFF_REGS_RFLAGS (DE_OFF_REGS + 72)
#define DE_OFF_REGS_SEL (DE_OFF_REGS + 80) /* cs ss ds es fs gs, 16 bits each */
#define DE_OFF_EXIT 192
#define DE_OFF_FPU 256
#define DE_OFF_LDT 768

#ifndef __ASSEMBLER__
/* Commands (de_stub_control.cmd). Nothing but HELLO and CONFINE is served before CONFINE. */
enum de_stub_cmd {
  DE_CMD_HELLO = 1,   /* report the stub's addresses; also a no-op round trip */
  DE_CMD_CONFINE = 2, /* install filter[0, filter_len) (no_new_privs + seccomp, with a
                         listener: its descriptor in listener) */
  DE_CMD_MAP = 3,     /* mmap(addr, len, prot, MAP_SHARED|MAP_FIXED, RAM, offset) */
  DE_CMD_PROTECT = 4, /* mprotect(addr, len, prot) */
  DE_CMD_UNMAP = 5,   /* munmap(addr, len) */
  DE_CMD_ENTER = 6,   /* run code from regs (and the fpu image) until it exits (exit) */
  DE_CMD_SET_LDT = 7, /* modify_ldt(1, &ldt, sizeof ldt): one host LDT entry */
  DE_CMD_WINDOW = 8,  /* ops[0, count) in order (each a MAP, PROTECT or UNMAP); on a failure,
                         its index in failed and its -errno in result */
};

/* Why the stub exited on its own before serving (its exit status), for the monitor's report. */
enum de_stub_exit {
  DE_EXIT_SHED_MEMORY = 101, /* could not unmap the stack, vDSO and vvar */
  DE_EXIT_SETUP = 102,       /* prctl/prlimit failed */
  DE_EXIT_CONTROL = 103,     /* could not map the control page */
  DE_EXIT_ORPHAN = 104,      /* its monitor was already gone */
  DE_EXIT_SIGNALS = 105,     /* could not install its signal handlers or altstack */
  DE_EXIT_STUB_FAULT = 106,  /* a fault in the stub's own code, or guest code never entered */
};

/* Registers in and out of entered code: the 8 general registers (rax rcx rdx rbx rsp rbp rsi
   rdi; compatibility-mode code uses the low halves), rip, rflags and the selectors. */
struct de_stub_regs {
  uint64_t gpr[8];
  uint64_t rip;
  uint64_t rflags;
  uint16_t cs, ss, ds, es, fs, gs;
  uint32_t pad;
};

/* How entered code came back (filled by the stub's signal handler). */
struct de_stub_exit_record {
  uint32_t kind; /* DE_EXIT_* */
  int32_t signo;
  int32_t code; /* si_code */
  int32_t trapno;
  uint64_t err;
  uint64_t addr;         /* si_addr; SIGSYS: the address after the system call instruction */
  int32_t syscall_nr;    /* SIGSYS: si_syscall */
  uint32_t syscall_arch; /* SIGSYS: si_arch (AUDIT_ARCH_I386 for int 0x80) */
};

/* modify_ldt's struct user_desc (asm/ldt.h), 16 bytes. */
struct de_stub_ldt {
  uint32_t entry_number;
  uint32_t base_addr;
  uint32_t limit;
  uint32_t flags;
};

#define DE_STUB_MAX_FILTER 256
#define DE_STUB_MAX_WINDOW_OPS 96

/* One window change of a DE_CMD_WINDOW batch. */
struct de_stub_window_op {
  uint32_t cmd; /* DE_CMD_MAP, DE_CMD_PROTECT or DE_CMD_UNMAP */
  uint32_t prot;
  uint64_t addr;
  uint64_t len;
  uint64_t offset; /* MAP: in guest RAM */
};

/* One page, shared. The monitor posts a command by filling the fields and incrementing seq
   (futex-woken); the stub answers with result and sets done = seq (futex-woken). Once guest
   code has run in the stub, everything here is hostile input to the monitor. */
struct de_stub_control {
  uint32_t seq;
  uint32_t done;
  uint32_t cmd;
  int32_t result; /* 0 or -errno */
  uint32_t kick;  /* set by the monitor before DE_KICK_SIGNAL; cleared by it before ENTER */
  int32_t listener; /* CONFINE: the stub's descriptor of its filter's listener (the monitor
                       takes a copy with pidfd_getfd and answers mmap/mprotect through it) */
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
  uint32_t count;           /* WINDOW: how many ops */
  uint32_t failed;          /* WINDOW: the index of the op that failed */
  struct de_stub_regs regs; /* ENTER: the state to enter with; then as the code left it */
  struct de_stub_exit_record exit;
  uint8_t pad2[DE_OFF_FPU - DE_OFF_EXIT - sizeof(struct de_stub_exit_record)];
  uint8_t fpu[512] __attribute__((aligned(16))); /* fxsave image (32-bit format), in and out */
  struct de_stub_ldt ldt;                        /* SET_LDT */
  union {
    struct sock_filter filter[DE_STUB_MAX_FILTER];        /* CONFINE */
    struct de_stub_window_op ops[DE_STUB_MAX_WINDOW_OPS]; /* WINDOW */
  };
};

#ifdef __cplusplus
#define DE_STUB_ASSERT static_assert
#else
#define DE_STUB_ASSERT _Static_assert
#endif
DE_STUB_ASSERT(__builtin_offsetof(struct de_stub_control, kick) == DE_OFF_KICK, "kick");
DE_STUB_ASSERT(__builtin_offsetof(struct de_stub_control, regs) == DE_OFF_REGS, "regs");
DE_STUB_ASSERT(__builtin_offsetof(struct de_stub_regs, rip) == 64, "rip");
DE_STUB_ASSERT(__builtin_offsetof(struct de_stub_regs, rflags) == 72, "rflags");
DE_STUB_ASSERT(__builtin_offsetof(struct de_stub_regs, cs) == 80, "cs");
DE_STUB_ASSERT(__builtin_offsetof(struct de_stub_control, exit) == DE_OFF_EXIT, "exit");
DE_STUB_ASSERT(__builtin_offsetof(struct de_stub_control, fpu) == DE_OFF_FPU, "fpu");
DE_STUB_ASSERT(__builtin_offsetof(struct de_stub_control, ldt) == DE_OFF_LDT, "ldt");
DE_STUB_ASSERT(sizeof(struct de_stub_control) <= 4096, "one page");
#endif

#endif
