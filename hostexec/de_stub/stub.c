/* The direct-execution stub: the whole program of the confined host process that will run
   guest user code (docs/ARCHITECTURE.md, "Direct execution"; SECURITY.md). Static, no libc,
   linked at DE_STUB_BASE. It sheds everything the kernel mapped for it but its own image (stack,
   vDSO, vvar), keeps only the guest RAM and control-page descriptors, maps the control page,
   and then serves the monitor's commands (de_stub_abi.h). The monitor sends its seccomp filter;
   after CONFINE the only system calls the process can make are the ones that filter allows,
   from de_stub_syscall_insn. */
#include <asm/unistd.h>
#include <linux/errno.h>
#include <linux/futex.h>
#include <linux/mman.h>
#include <linux/prctl.h>
#include <linux/resource.h>
#include <linux/seccomp.h>

#include "de_stub_abi.h"
#include "de_stub_internal.h"

#define SIGKILL 9
/* The highest user address on a 4-level-paging host; with 5-level paging nothing is mapped
   above it unless asked for. */
#define USER_TOP 0x7ffffffff000ull
#define PAGE 4096ull

extern char de_stub_syscall_insn[], de_stub_syscall_next[];

long de_stub_sys(long nr, long a1, long a2, long a3) {
  return de_stub_syscall(nr, a1, a2, a3, 0, 0, 0);
}
#define sys de_stub_sys

void de_stub_die(int status) {
  for (;;) sys(__NR_exit_group, status, 0, 0);
}
#define die de_stub_die

unsigned long de_stub_image_end(void) {
  return ((unsigned long)_end + PAGE - 1) & ~(PAGE - 1);
}

/* argv[1] is the monitor's pid in decimal. */
static long parent_from(const unsigned long* sp) {
  const char* s = (const char*)sp[2];
  long pid = 0;
  if (sp[0] < 2 || !s) return -1;
  for (; *s >= '0' && *s <= '9'; ++s) pid = pid * 10 + (*s - '0');
  return pid;
}

/* Everything but the image goes: the kernel's stack (argv, envp, auxv), [vdso], [vvar] and
   [vvar_vclock]. Whatever the kernel's layout, they lie outside [image start, image end). */
static void shed_memory(void) {
  const unsigned long start = (unsigned long)__executable_start, end = de_stub_image_end();
  if (sys(__NR_munmap, 0, start, 0) < 0) die(DE_EXIT_SHED_MEMORY);
  if (sys(__NR_munmap, end, USER_TOP - end, 0) < 0) die(DE_EXIT_SHED_MEMORY);
}

/* Only guest RAM and the control page stay open. */
static void shed_descriptors(void) {
  if (sys(__NR_close_range, 0, DE_STUB_RAM_FD - 1, 0) == 0 &&
      sys(__NR_close_range, DE_STUB_CONTROL_FD + 1, ~0u, 0) == 0)
    return;
  for (long fd = 0; fd < 4096; ++fd)  // kernels before 5.9
    if (fd != DE_STUB_RAM_FD && fd != DE_STUB_CONTROL_FD) sys(__NR_close, fd, 0, 0);
}

/* Dies with the monitor; a killed stub (seccomp) leaves no core file behind. */
static void tie_to_monitor(long monitor) {
  static const struct rlimit64 no_core = {0, 0};
  if (sys(__NR_prctl, PR_SET_PDEATHSIG, SIGKILL, 0) < 0) die(DE_EXIT_SETUP);
  if (sys(__NR_prlimit64, 0, RLIMIT_CORE, (long)&no_core) < 0) die(DE_EXIT_SETUP);
  if (sys(__NR_getppid, 0, 0, 0) != monitor) die(DE_EXIT_ORPHAN);
}

static struct de_stub_control* map_control(void) {
  long p = de_stub_syscall(__NR_mmap, DE_STUB_CONTROL, PAGE, PROT_READ | PROT_WRITE,
                           MAP_SHARED | MAP_FIXED, DE_STUB_CONTROL_FD, 0);
  if (p != (long)DE_STUB_CONTROL) die(DE_EXIT_CONTROL);
  sys(__NR_close, DE_STUB_CONTROL_FD, 0, 0);
  return (struct de_stub_control*)DE_STUB_CONTROL;
}

/* The monitor checks too; this keeps the stub from asking for what its filter would kill. */
static int in_window(unsigned long addr, unsigned long len) {
  return len != 0 && addr < DE_WINDOW_END && len <= DE_WINDOW_END - addr;
}

static long confine(struct de_stub_control* c) {
  struct sock_fprog prog;
  long r;
  if (c->filter_len == 0 || c->filter_len > DE_STUB_MAX_FILTER) return -EINVAL;
  prog.len = (unsigned short)c->filter_len;
  prog.filter = c->filter; /* the kernel copies it */
  r = sys(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0);
  if (r == 0)
    r = sys(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, (long)&prog);
  if (r < 0) return r;
  /* Kept open: nothing the filter allows takes a descriptor but mmap of the RAM one. */
  c->listener = (int32_t)r;
  return 0;
}

static int plain_prot(uint32_t prot) {
  return (prot & ~(uint32_t)(PROT_READ | PROT_WRITE | PROT_EXEC)) == 0;
}

static long map(unsigned long addr, unsigned long len, uint32_t prot, unsigned long offset) {
  long r;
  if (!in_window(addr, len) || !plain_prot(prot)) return -EINVAL;
  r = de_stub_syscall(__NR_mmap, addr, len, prot, MAP_SHARED | MAP_FIXED, DE_STUB_RAM_FD, offset);
  return r < 0 ? r : (r == (long)addr ? 0 : -EFAULT);
}

static long window_op(uint32_t cmd, unsigned long addr, unsigned long len, uint32_t prot,
                      unsigned long offset) {
  switch (cmd) {
    case DE_CMD_MAP:
      return map(addr, len, prot, offset);
    case DE_CMD_PROTECT:
      if (!in_window(addr, len) || !plain_prot(prot)) return -EINVAL;
      return sys(__NR_mprotect, addr, len, prot);
    case DE_CMD_UNMAP:
      return in_window(addr, len) ? sys(__NR_munmap, addr, len, 0) : -EINVAL;
  }
  return -EINVAL;
}

/* A batch of window changes, applied in order up to the first that fails. */
static long window(struct de_stub_control* c) {
  const uint32_t n = c->count;
  if (n > DE_STUB_MAX_WINDOW_OPS) return -EINVAL;
  for (uint32_t i = 0; i < n; ++i) {
    const struct de_stub_window_op op = c->ops[i];
    const long r = window_op(op.cmd, op.addr, op.len, op.prot, op.offset);
    if (r != 0) {
      c->failed = i;
      return r;
    }
  }
  return 0;
}

static long execute(struct de_stub_control* c, int* confined) {
  const unsigned long addr = c->addr, len = c->len;
  const uint32_t cmd = c->cmd;
  if (cmd == DE_CMD_HELLO) {
    c->syscall_insn = (uint64_t)de_stub_syscall_insn;
    c->syscall_next = (uint64_t)de_stub_syscall_next;
    c->image_start = (uint64_t)__executable_start;
    c->image_end = de_stub_image_end();
    return 0;
  }
  if (cmd == DE_CMD_CONFINE) {
    if (*confined) return -EALREADY;
    long r = confine(c);
    *confined = r == 0;
    return r;
  }
  if (!*confined) return -EPERM;
  switch (cmd) {
    case DE_CMD_MAP:
    case DE_CMD_PROTECT:
    case DE_CMD_UNMAP:
      return window_op(cmd, addr, len, c->prot, c->offset);
    case DE_CMD_WINDOW:
      return window(c);
    case DE_CMD_ENTER:
      /* Entered code runs below 4 GiB (compatibility mode cannot address more). */
      if (c->regs.rip >> 32) return -EINVAL;
      return de_stub_enter();
    case DE_CMD_SET_LDT:
      return sys(__NR_modify_ldt, 1, (long)&c->ldt, sizeof c->ldt);
  }
  return -ENOSYS;
}

static void serve(struct de_stub_control* c) {
  uint32_t seen = 0;
  int confined = 0;
  for (;;) {
    uint32_t seq;
    while ((seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE)) == seen)
      sys(__NR_futex, (long)&c->seq, FUTEX_WAIT, seen);
    seen = seq;
    c->result = (int32_t)execute(c, &confined);
    __atomic_store_n(&c->done, seq, __ATOMIC_RELEASE);
    sys(__NR_futex, (long)&c->done, FUTEX_WAKE, 1);
  }
}

void de_stub_main(const unsigned long* initial_sp) {
  const long monitor = parent_from(initial_sp);
  shed_memory();
  shed_descriptors();
  tie_to_monitor(monitor);
  de_stub_install_signals();
  serve(map_control());
}
