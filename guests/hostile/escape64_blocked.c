/* A far jump from ring 3 to 0x33 into 64-bit code that takes over the direct-execution stub's
   signal handling (SECURITY.md, issue 12): it finds the stub's `syscall` instruction (the one
   place its seccomp filter allows rt_sigreturn from) and makes rt_sigreturn with a frame of its
   own, which blocks every signal and resumes at a 64-bit spin loop. bt86's kicks (timer ticks,
   Ctrl-C, SIGTERM) then go unanswered: bt86 must end the process and stop the VM with a
   "security:" report (exit status 4; scripts/vm/compat-suite.sh checks it), never hang. On a
   Pentium III (and with user code translated) GDT index 6 is empty: #GP(0x30), a pass. */
#include <stdint.h>

#include "escape64_run.h"
#include "multiboot.h"

/* The x86-64 rt_sigreturn frame at rsp: a ucontext (flags, link, stack, sigcontext, mask). */
struct frame64 {
  uint64_t flags, link, ss_sp;
  uint32_t ss_flags, pad;
  uint64_t ss_size;
  uint64_t r8_r15[8];
  uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
  uint16_t cs, gs, fs, ss;
  uint64_t err, trapno, oldmask, cr2, fpstate, reserved[8];
  uint64_t sigmask;
};
_Static_assert(sizeof(struct frame64) == 304, "the kernel's layout");

struct frame64 bt86_blocking_frame __attribute__((aligned(16)));
static uint8_t spin_stack[0x1000] __attribute__((aligned(16)));

void escape64_blocked(void);
void spin64_blocked(void);
/* On a page of its own, with no byte pattern (cpuid, syscall, ...) that would send the page to
   bt86's translator: the 0F 05 it looks for is built in a register. */
__asm__(
    ".text\n"
    ".p2align 12\n"
    "escape64_blocked:\n"
    "  ljmp $0x33, $1f\n"
    ".code64\n"
    "1:" ESCAPE64_FIND_STUB_SYSCALL
    "  mov $bt86_blocking_frame, %esp\n"
    "  mov $15, %eax\n" /* rt_sigreturn */
    "  jmp *%rbx\n"
    "spin64_blocked:\n"
    "  jmp spin64_blocked\n"
    ".code32\n"
    ".p2align 12\n");

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  (void)mbi;
  struct frame64* f = &bt86_blocking_frame;
  f->ss_flags = 2; /* SS_DISABLE */
  f->rsp = (uint32_t)(spin_stack + sizeof spin_stack);
  f->rip = (uint32_t)spin64_blocked;
  f->eflags = 0x202;
  f->cs = 0x33;
  f->ss = 0x2b;
  f->sigmask = ~0ull;
  escape64_run(escape64_blocked, 1);
}
