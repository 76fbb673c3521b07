/* The cost of the transitions a VMM without VT-x must emulate or trap: a null int $0x80
   round trip from ring 3, cpuid and `in` from ring 3, and `in` from ring 0. Each loop is
   timed with rdtsc, best of REPEATS runs (the host may preempt the VMM in any one of them);
   one line per measurement: `trapbench.<name>: <cycles per operation>` (loop overhead
   included: a few cycles against hundreds or more). */
#include <stdint.h>

#include "desc.h"
#include "idt.h"
#include "kprintf.h"
#include "multiboot.h"
#include "pic.h"
#include "portio.h"
#include "serial.h"
#include "user.h"
#include "protected_init.h"

enum {
  ITERATIONS = 20000,
  REPEATS = 5,
  NULL_VECTOR = 0x80, /* the measured gate: nothing but iret */
  EXIT_VECTOR = 0x81, /* ends a ring-3 loop through the dispatcher */
  POST_PORT = 0x80,
  USER_STACK_SIZE = 0x4000,
};

/* The measured handler, bypassing the dispatcher: the minimum a guest kernel can do. */
void null_iret(void);
__asm__(".text\n.globl null_iret\nnull_iret:\n\tiret\n");

volatile uint64_t cycles; /* written by ring 3, read by the kernel */

static inline uint64_t rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (uint64_t)hi << 32 | lo;
}

static __attribute__((noreturn)) void user_done(void) {
  __asm__ volatile("int %0" : : "i"(EXIT_VECTOR));
  __builtin_unreachable();
}

static void user_int80(void) {
  uint64_t t0 = rdtsc();
  for (int i = 0; i < ITERATIONS; i++) __asm__ volatile("int %0" : : "i"(NULL_VECTOR) : "memory");
  cycles = rdtsc() - t0;
  user_done();
}

/* The same loop on a page of its own: user_int80 shares its page with the cpuid loop, which
   keeps that page with bt86's translator, so only this one can run directly. */
void user_int80_direct(void);
_Static_assert(ITERATIONS == 20000 && NULL_VECTOR == 0x80 && EXIT_VECTOR == 0x81, "asm below");
__asm__(
    ".text\n"
    ".p2align 12\n"
    "user_int80_direct:\n"
    "  rdtsc\n"
    "  mov %eax, %esi\n"
    "  mov %edx, %edi\n"
    "  mov $20000, %ecx\n"
    "1: int $0x80\n"
    "  dec %ecx\n"
    "  jnz 1b\n"
    "  rdtsc\n"
    "  sub %esi, %eax\n"
    "  sbb %edi, %edx\n"
    "  mov %eax, cycles\n"
    "  mov %edx, cycles + 4\n"
    "  int $0x81\n"
    ".p2align 12\n");

static void user_cpuid(void) {
  uint64_t t0 = rdtsc();
  for (int i = 0; i < ITERATIONS; i++) {
    uint32_t a = 0, b, c = 0, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
  }
  cycles = rdtsc() - t0;
  user_done();
}

static void user_in(void) {
  uint64_t t0 = rdtsc();
  for (int i = 0; i < ITERATIONS; i++) inb(POST_PORT);
  cycles = rdtsc() - t0;
  user_done();
}

static void on_exit(struct trap_frame* f) {
  (void)f;
  user_return(0);
}

static void kernel_in(void) {
  uint64_t t0 = rdtsc();
  for (int i = 0; i < ITERATIONS; i++) inb(POST_PORT);
  cycles = rdtsc() - t0;
}

/* Runs `loop` REPEATS times, in ring 3 with `eflags` or (user = 0) in ring 0, and prints the
   best time. */
static void measure(const char* name, void (*loop)(void), int user, uint32_t eflags) {
  static uint8_t user_stack[USER_STACK_SIZE] __attribute__((aligned(16)));
  uint64_t best = UINT64_MAX;
  for (int r = 0; r < REPEATS; r++) {
    if (user)
      user_run(loop, user_stack + sizeof user_stack, eflags);
    else
      loop();
    if (cycles < best) best = cycles;
  }
  kprintf("trapbench.%s: %llu\n", name, best / ITERATIONS);
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  (void)mbi;
  protected_init();
  idt_set_raw_gate(NULL_VECTOR, null_iret, GATE_INTERRUPT, 3);
  idt_set_gate(EXIT_VECTOR, GATE_INTERRUPT, 3);
  trap_register(EXIT_VECTOR, on_exit);
  kprintf("# %d iterations, best of %d runs, cycles per operation\n", ITERATIONS, REPEATS);
  measure("int80", user_int80, 1, 0);
  /* IF = 1, IOPL 0: where the host runs compat-mode code, this loop runs directly (IF = 0
     above keeps it with the translator), so each round trip is a host exit from direct
     execution (a seccomp SIGSYS) and a re-entry. No interrupt source is unmasked. */
  measure("int80_direct", user_int80_direct, 1, EFLAGS_IF);
  measure("cpuid_user", user_cpuid, 1, 0);
  /* IOPL 3: the port access itself is measured, not a #GP. */
  measure("in_user", user_in, 1, EFLAGS_IOPL(3));
  measure("in_kernel", kernel_in, 0, 0);
  return 0;
}
