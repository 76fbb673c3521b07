/* Escapes that stay inside the direct-execution process (SECURITY.md, issue 12): ring 3 far-jumps
   to 0x33, the host's 64-bit selector, and its 64-bit code uses what the stub process allows —
   its own `syscall` instruction and its control page — against the guest kernel, with the
   attack named on the command line:

     mmap         mmap the frame of a supervisor-only page (the guest kernel's secret) into the
                  window with the stub's own call, write it, return to ring 3, int 0x80
     mprotect     mprotect the secret's window page to read-write, write it, ... (the process
                  never holds a supervisor page: the write faults in 64-bit mode)
     forge        write an exit record of its own ("int 0x80 at the secret's address", where
                  ring 3 cannot run) and answer the monitor's ENTER with it
     forge_flags  the same record with EFLAGS.IF clear (no user mode runs so)

   On a Pentium III the guest's own descriptor decides: GDT index 6 is empty, so #GP(0x30),
   which this guest reports as passing (ctest runs it translated). Under bt86's direct execution
   the monitor must refuse each attack and stop the VM with a "security:" report (exit status 4;
   scripts/vm/compat-suite.sh checks the report of each): the secret is never written and no
   forged record reaches the guest. If an attack gets through, the guest kernel sees it (int
   0x80 with the secret changed, or #UD from ring 3 at the secret's address) and exits 3. No
   timer runs: nothing but the monitor's own checks can stop the escaped code. */
#include <stdint.h>

#include "cmdline.h"
#include "desc.h"
#include "escape64_run.h"
#include "exit.h"
#include "idt.h"
#include "kprintf.h"
#include "multiboot.h"
#include "paging.h"
#include "protected_init.h"
#include "tap.h"
#include "user.h"

#define SECRET 0x40000000u /* supervisor-only, read-write */
#define SECRET_VALUE 0x5ec2e7u
#define STOLEN_VALUE 0xbadu
#define EXIT_BROKEN 3

enum attack { MMAP = 1, MPROTECT = 2, FORGE = 3, FORGE_FLAGS = 4 };

/* Read by the 64-bit code (user accessible, below 2 GiB). */
volatile uint32_t attack;
volatile uint32_t secret_phys;

void escape64_inside(void);
_Static_assert(SECRET == 0x40000000u && STOLEN_VALUE == 0xbadu && MMAP == 1 && MPROTECT == 2 &&
                   FORGE_FLAGS == 4,
               "the constants in the asm below");
/* On a page of its own, with no byte pattern (cpuid, syscall, ...) that would send the page to
   bt86's translator: the 0F 05 it looks for is built in a register. Control page offsets: see
   hostexec/de_stub/de_stub_abi.h (exit record at 192, registers at 96). */
__asm__(
    ".text\n"
    ".p2align 12\n"
    "escape64_inside:\n"
    "  mov %cs, %ebp\n" /* the host's alias selectors, for the way back and the record */
    "  mov %ss, %edi\n"
    "  mov %ds, %esi\n"
    "  mov %es, %eax\n" /* each register has an alias of its own */
    "  mov %fs, %ecx\n"
    "  mov %gs, %edx\n"
    "  ljmp $0x33, $1f\n"
    ".code64\n"
    "1: mov %eax, %r13d\n"
    "  mov %ecx, %r14d\n"
    "  mov %edx, %r15d\n" ESCAPE64_FIND_STUB_SYSCALL
    "  mov $attack, %eax\n" /* (32-bit immediates: the object is an i386 one) */
    "  mov (%rax), %eax\n"
    "  mov %eax, %r12d\n"
    "  cmp $1, %eax\n"
    "  je 10f\n"
    "  cmp $2, %eax\n"
    "  je 11f\n"
    "  jmp 20f\n"
    /* mmap(SECRET, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, RAM fd 3, frame) */
    "10: mov $secret_phys, %eax\n"
    "  mov (%rax), %r9d\n"
    "  mov $9, %eax\n"
    "  mov $0x40000000, %edi\n"
    "  mov $4096, %esi\n"
    "  mov $3, %edx\n"
    "  mov $0x11, %r10d\n"
    "  mov $3, %r8d\n"
    "  call *%rbx\n"
    "  jmp 12f\n"
    /* mprotect(SECRET, 4096, PROT_READ | PROT_WRITE) */
    "11: mov $10, %eax\n"
    "  mov $0x40000000, %edi\n"
    "  mov $4096, %esi\n"
    "  mov $3, %edx\n"
    "  call *%rbx\n"
    /* Write the secret, then back to ring 3's own code with the alias CS. */
    "12: mov $0x40000000, %eax\n"
    "  movl $0xbad, (%rax)\n"
    "  mov $5f, %eax\n"
    "  push %rbp\n"
    "  push %rax\n"
    "  lretq\n"
    /* The forged record: int 0x80 (SIGSYS, i386) with EIP just past the secret's first two
       bytes, all registers plausible (forge_flags: but IF clear). */
    "20: movabs $0x300000000, %rcx\n"
    "  movl $1, 192(%rcx)\n"          /* kind: DE_EXIT_TRAP */
    "  movl $31, 196(%rcx)\n"         /* signo: SIGSYS */
    "  movl $1, 200(%rcx)\n"          /* code: SYS_SECCOMP */
    "  movl $0, 204(%rcx)\n"          /* trapno */
    "  movq $0, 208(%rcx)\n"          /* err */
    "  movq $0x40000002, 216(%rcx)\n" /* addr */
    "  movl $0, 224(%rcx)\n"          /* syscall_nr */
    "  movl $0x40000003, 228(%rcx)\n" /* arch: AUDIT_ARCH_I386 */
    "  lea 96(%rcx), %rdx\n"
    "  mov $8, %r8d\n"
    "21: movq $0, (%rdx)\n" /* gpr[0..7] */
    "  add $8, %rdx\n"
    "  dec %r8d\n"
    "  jnz 21b\n"
    "  movq $0x40000002, 160(%rcx)\n" /* rip */
    "  movq $0x202, 168(%rcx)\n"      /* rflags */
    "  cmp $4, %r12d\n"
    "  jne 22f\n"
    "  movq $0x2, 168(%rcx)\n"
    "22: mov %bp, 176(%rcx)\n" /* cs */
    "  mov %di, 178(%rcx)\n"   /* ss */
    "  mov %si, 180(%rcx)\n"   /* ds es fs gs */
    "  mov %r13w, 182(%rcx)\n"
    "  mov %r14w, 184(%rcx)\n"
    "  mov %r15w, 186(%rcx)\n"
    "  movl $0, 12(%rcx)\n" /* result */
    "  mov (%rcx), %eax\n"  /* done = seq */
    "  mov %eax, 4(%rcx)\n"
    "  mov $202, %eax\n" /* futex(&done, FUTEX_WAKE, 1) */
    "  lea 4(%rcx), %rdi\n"
    "  mov $1, %esi\n"
    "  mov $1, %edx\n"
    "  call *%rbx\n"
    "23: pause\n"
    "  jmp 23b\n"
    ".code32\n"
    "5: int $0x80\n"
    "6: jmp 6b\n"
    ".p2align 12\n");

static uint8_t user_stack[0x4000] __attribute__((aligned(16)));

static void on_gp(struct trap_frame* f) {
  tap_ok(trap_from_user(f) && f->error == 0x30, "ring-3 far jmp to 0x33: #GP(0x%x)", f->error);
  tap_done();
}

/* Reached only when an attack got through. */
static void on_syscall(struct trap_frame* f) {
  (void)f;
  uint32_t now = *(volatile uint32_t*)SECRET;
  kprintf("Bail out! escaped code came back to ring 3; the secret is 0x%x (was 0x%x)\n", now,
          SECRET_VALUE);
  guest_exit(EXIT_BROKEN);
}

static void on_ud(struct trap_frame* f) {
  kprintf("Bail out! #UD from %s at 0x%08x: a forged exit record reached the guest\n",
          trap_from_user(f) ? "ring 3" : "ring 0", f->eip);
  guest_exit(EXIT_BROKEN);
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  protected_init();
  static const char* const names[] = {"", "mmap", "mprotect", "forge", "forge_flags"};
  for (uint32_t i = 1; i < sizeof names / sizeof names[0]; i++)
    if (cmdline_has_word(mbi, names[i])) attack = i;
  if (!attack) {
    kprintf("Bail out! name an attack on the command line: mmap, mprotect, forge, forge_flags\n");
    guest_exit(2);
  }
  volatile pte_t* pd = pd_create();
  map_range(pd, PAGE_SIZE, PAGE_SIZE, LARGE_PAGE_SIZE - PAGE_SIZE, PTE_RW | PTE_US | PTE_G);
  secret_phys = (uint32_t)page_alloc();
  map_page(pd, SECRET, secret_phys, PTE_RW);
  paging_enable(pd, CR4_PGE);
  trap_register(13, on_gp);
  trap_register(6, on_ud);
  idt_set_gate(0x80, GATE_INTERRUPT, 3);
  trap_register(0x80, on_syscall);
  /* The kernel uses its secret right before ring 3 runs: its page is in the monitor's shadow
     now (and was, parked, in the direct-execution process's window until issue 12 step 3). */
  *(volatile uint32_t*)SECRET = SECRET_VALUE;
  tap_plan(1);
  kprintf("# attack: %s\n", names[attack]);
  user_run(escape64_inside, user_stack + sizeof user_stack, EFLAGS_IF);
  kprintf("Bail out! ring 3 returned\n");
  guest_exit(2);
}
