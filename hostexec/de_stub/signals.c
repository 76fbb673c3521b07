/* The stub's signal handlers: every way entered code comes back (a fault or trap, an i386
   system call trapped by seccomp as SIGSYS, a kick from the monitor) is a signal, taken on an
   alternate stack in the stub's .bss. The handler records the exit in the control page and
   resumes the stub at de_stub_exit (enter.S). Installed before CONFINE: rt_sigaction and
   sigaltstack are not in the filter. */
#include <asm/sigcontext.h>
#include <asm/unistd.h>
#include <linux/signal.h>

#include "de_stub_abi.h"
#include "de_stub_internal.h"

extern char de_stub_window[], de_stub_iretq[], de_stub_bail[], de_stub_exit[];
extern char de_stub_restorer[];
extern unsigned long de_stub_saved_rsp;
extern uint32_t de_stub_entered;

/* The kernel's x86-64 rt_sigaction argument and signal frame, without libc. */
struct k_sigaction {
  void (*handler)(int, void*, void*);
  unsigned long flags;
  void (*restorer)(void);
  uint64_t mask;
};
struct k_siginfo {
  int32_t signo, err, code, pad;
  union {
    uint64_t addr; /* SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP */
    struct {
      uint64_t call_addr;
      int32_t syscall;
      uint32_t arch;
    } sys;
  } u;
};
struct k_ucontext {
  unsigned long flags;
  void* link;
  struct {
    void* sp;
    int32_t flags, pad;
    unsigned long size;
  } stack;
  struct sigcontext mc;
  uint64_t sigmask;
};

#define SA_SIGINFO_ 0x4
#define SA_ONSTACK_ 0x08000000
#define SA_RESTORER_ 0x04000000
#define SIGTRAP_ 5
#define SIGSYS_ 31
#define EFLAGS_TF_DF_AC 0x40500ul

static void die_xstate(void) {
  de_stub_die(DE_EXIT_SIGNALS);
}

static char altstack[32768] __attribute__((aligned(64)));
static int have_pku;

static int is_async(int sig) {
  return sig == DE_KICK_SIGNAL;
}

/* A signal in the stub's own code: inside the entry window it ends the entry (a kick, or the
   entry's own fault); a kick elsewhere is for no entry and is dropped (the next ENTER checks
   the kick word); a fault elsewhere is a bug of the stub, which exits. */
static void in_stub(int sig, struct de_stub_control* c, struct k_siginfo* si,
                    struct sigcontext* m) {
  const int in_window =
      m->rip >= (unsigned long)de_stub_window && m->rip <= (unsigned long)de_stub_iretq;
  if (!in_window || !de_stub_entered) {
    if (!is_async(sig)) de_stub_die(DE_EXIT_STUB_FAULT);
    return;
  }
  c->exit.kind = is_async(sig) ? DE_EXIT_BAILED : DE_EXIT_ENTRY_FAULT;
  c->exit.signo = sig;
  c->exit.code = si->code;
  c->exit.trapno = (int32_t)m->trapno;
  c->exit.err = m->err;
  c->exit.addr = m->rip;
  m->rip = (unsigned long)de_stub_bail;
}

static void record(int sig, struct de_stub_control* c, struct k_siginfo* si, struct sigcontext* m) {
  struct de_stub_regs* r = &c->regs;
  r->gpr[0] = m->rax;
  r->gpr[1] = m->rcx;
  r->gpr[2] = m->rdx;
  r->gpr[3] = m->rbx;
  r->gpr[4] = m->rsp;
  r->gpr[5] = m->rbp;
  r->gpr[6] = m->rsi;
  r->gpr[7] = m->rdi;
  r->rip = m->rip;
  r->rflags = m->eflags;
  r->cs = m->cs;
  r->ss = m->ss; /* UC_SIGCONTEXT_SS: the kernel saves the interrupted SS here */
  c->exit.kind = is_async(sig) ? DE_EXIT_KICK : DE_EXIT_TRAP;
  c->exit.signo = sig;
  c->exit.code = si->code;
  c->exit.trapno = (int32_t)m->trapno;
  c->exit.err = m->err;
  c->exit.addr = si->u.addr;
  c->exit.syscall_nr = 0;
  c->exit.syscall_arch = 0;
  if (sig == SIGSYS_) {
    c->exit.addr = m->rip;
    c->exit.syscall_nr = si->u.sys.syscall;
    c->exit.syscall_arch = si->u.sys.arch;
  }
}

static void on_signal(int sig, void* info, void* ucontext) {
  struct de_stub_control* c = (struct de_stub_control*)DE_STUB_CONTROL;
  struct k_siginfo* si = info;
  struct sigcontext* m = &((struct k_ucontext*)ucontext)->mc;
  if (m->cs == DE_HOST_CS64 && m->rip >= (unsigned long)__executable_start &&
      m->rip < de_stub_image_end())
    return in_stub(sig, c, si, m);
  if (!de_stub_entered) de_stub_die(DE_EXIT_STUB_FAULT); /* code the stub never entered */
  record(sig, c, si, m);
  de_stub_entered = 0;
  m->rip = (unsigned long)de_stub_exit;
  m->rsp = de_stub_saved_rsp;
  m->rsi = (unsigned long)have_pku;
  m->cs = DE_HOST_CS64;
  m->ss = DE_HOST_DS;
  m->eflags &= ~EFLAGS_TF_DF_AC;
}

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
  __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

/* Read by enter.S: the XCR0 components to reset before each entry (0: no XSAVE), and an XSAVE
   area whose header says "every component in its reset state" (MXCSR must still be valid). */
uint64_t de_stub_xmask;
uint8_t de_stub_xinit[16384] __attribute__((aligned(64)));

static void setup_xstate(void) {
  uint32_t r[4], lo, hi;
  cpuid(1, 0, r);
  if (!((r[2] >> 27) & 1)) return; /* OSXSAVE */
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  cpuid(0xd, 0, r);
  if (r[1] > sizeof de_stub_xinit) die_xstate();
  /* AMX tile state stays out: the host may arm XFD for it (an xrstor of it would fault). */
  de_stub_xmask = ((uint64_t)hi << 32 | lo) & ~((1ull << 17) | (1ull << 18));
  de_stub_xinit[24] = 0x80; /* MXCSR 0x1f80 */
  de_stub_xinit[25] = 0x1f;
}

static int cpu_has_pku(void) {
  uint32_t r[4];
  cpuid(7, 0, r);
  return (r[2] >> 4) & 1; /* OSPKE */
}

void de_stub_install_signals(void) {
  static const int sigs[] = {4 /* ILL */,   SIGTRAP_, 7 /* BUS */,   8 /* FPE */,
                             11 /* SEGV */, SIGSYS_,  DE_KICK_SIGNAL};
  struct {
    void* sp;
    int32_t flags, pad;
    unsigned long size;
  } ss = {altstack, 0, 0, sizeof altstack};
  struct k_sigaction act = {on_signal, SA_SIGINFO_ | SA_ONSTACK_ | SA_RESTORER_,
                            (void (*)(void))de_stub_restorer, ~0ull};
  have_pku = cpu_has_pku();
  setup_xstate();
  if (de_stub_sys(__NR_sigaltstack, (long)&ss, 0, 0) != 0) de_stub_die(DE_EXIT_SIGNALS);
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; ++i)
    if (de_stub_syscall(__NR_rt_sigaction, sigs[i], (long)&act, 0, 8, 0, 0) != 0)
      de_stub_die(DE_EXIT_SIGNALS);
}
