/* Ring 3 and system calls: user code computes, calls the kernel through int $0x80 and exits
   back into the kernel, which checks what crossed the boundary in both directions. */
#include "usermode.h"

#include <stdint.h>

#include "desc.h"
#include "idt.h"
#include "kprintf.h"
#include "multiboot.h"
#include "pic.h"
#include "serial.h"
#include "syscall.h"
#include "tap.h"
#include "user.h"
#include "protected_init.h"

enum {
  USER_STACK_SIZE = 0x4000,
  COUNTER_START = 1000,
  EXIT_CODE = 0x5a,
  SECOND_EXIT_CODE = 0xa5,
  FIB_N = 20,
  FIB_20 = 6765,
  CHECKSUM_BYTES = 4096,
};

static uint8_t user_stack[USER_STACK_SIZE] __attribute__((aligned(16)));

/* Filled by ring 3, read by the kernel after user_run (no paging: the same memory). */
static struct {
  uint16_t cs, ds, ss;
  uint32_t fib;
  uint32_t checksum;
  uint32_t counters[3];
  uint32_t write_result;
  uint32_t probe_bad;
  uint32_t unknown_result;
} user_out;

static uint8_t checksum_data[CHECKSUM_BYTES];

/* Kernel-side state of the system calls. */
static uint32_t counter = COUNTER_START;
static struct trap_frame probe_frame;
static uint32_t bytes_written;

static const char greeting[] = "# hello from ring 3\n";

/* --- ring 3 ------------------------------------------------------------------------------- */

static __attribute__((noinline)) uint32_t fib(uint32_t n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/* Adler-32: a loop with a division per byte keeps the ALU and the stack busy. */
static __attribute__((noinline)) uint32_t adler32(const uint8_t* p, uint32_t n) {
  uint32_t a = 1, b = 0;
  for (uint32_t i = 0; i < n; i++) {
    a = (a + p[i]) % 65521;
    b = (b + a) % 65521;
  }
  return b << 16 | a;
}

static void user_main(void) {
  user_out.cs = read_cs();
  user_out.ds = read_ds();
  user_out.ss = read_ss();
  user_out.write_result = sys_write(greeting, sizeof greeting - 1);
  user_out.fib = fib(FIB_N);
  user_out.checksum = adler32(checksum_data, sizeof checksum_data);
  for (int i = 0; i < 3; i++) user_out.counters[i] = sys_call0(SYS_GET_COUNTER);
  user_out.probe_bad = user_probe();
  user_out.unknown_result = sys_call0(SYS_MAX + 1);
  sys_exit(EXIT_CODE);
}

static void user_second(void) {
  sys_exit(SECOND_EXIT_CODE);
}

/* --- kernel ------------------------------------------------------------------------------- */

static uint32_t sys_get_counter(struct trap_frame* f) {
  (void)f;
  return counter++;
}

static uint32_t sys_probe(struct trap_frame* f) {
  probe_frame = *f;
  return PROBE_RESULT;
}

static uint32_t sys_write_counted(struct trap_frame* f) {
  bytes_written += f->ecx;
  const char* p = (const char*)f->ebx;
  for (uint32_t i = 0; i < f->ecx; i++) kputc(p[i]);
  return f->ecx;
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  (void)mbi;
  protected_init();
  syscall_init();
  syscall_register(SYS_WRITE, sys_write_counted);
  syscall_register(SYS_GET_COUNTER, sys_get_counter);
  syscall_register(SYS_PROBE, sys_probe);
  for (uint32_t i = 0; i < sizeof checksum_data; i++) checksum_data[i] = (uint8_t)(i * 7 + 3);

  tap_plan(17);
  volatile uint32_t canary = 0xc0ffee11;
  uint32_t kernel_eflags = read_eflags();
  uint32_t code = user_run(user_main, user_stack + sizeof user_stack, EFLAGS_IF);

  tap_ok(code == EXIT_CODE, "SYS_EXIT code reaches user_run (0x%x)", code);
  tap_ok(
      read_cs() == SEL_KERNEL_CODE && read_ds() == SEL_KERNEL_DATA && read_ss() == SEL_KERNEL_DATA,
      "back in ring 0 with kernel segments (cs %04x ds %04x ss %04x)", read_cs(), read_ds(),
      read_ss());
  const uint32_t kept = EFLAGS_IF | EFLAGS_IOPL_MASK | EFLAGS_DF;
  tap_ok(canary == 0xc0ffee11 && (read_eflags() & kept) == (kernel_eflags & kept),
         "kernel stack, IF, IOPL and DF intact after the round trip (eflags 0x%x)", read_eflags());
  tap_ok(
      /* Ring 3 as the program itself sees it: the RPLs. The exact selector values are checked
         in the trap frame below; a program run directly on an x86-64 host that reads a segment
         register gets the VMM's host alias (bt86 docs/ARCHITECTURE.md). */
      (user_out.cs & 3) == 3 && (user_out.ds & 3) == 3 && (user_out.ss & 3) == 3,
      "user code ran in ring 3 (cs %04x ds %04x ss %04x)", user_out.cs, user_out.ds, user_out.ss);
  tap_ok(user_out.write_result == sizeof greeting - 1 && bytes_written == sizeof greeting - 1,
         "SYS_WRITE returned %u, kernel wrote %u bytes", user_out.write_result, bytes_written);
  tap_ok(user_out.fib == FIB_20, "fib(%d) in ring 3 = %u", FIB_N, user_out.fib);
  uint32_t want_sum = adler32(checksum_data, sizeof checksum_data);
  tap_ok(user_out.checksum == want_sum, "adler32 in ring 3 0x%08x, in ring 0 0x%08x",
         user_out.checksum, want_sum);
  tap_ok(user_out.counters[0] == COUNTER_START && user_out.counters[1] == COUNTER_START + 1 &&
             user_out.counters[2] == COUNTER_START + 2,
         "SYS_GET_COUNTER returned %u, %u, %u", user_out.counters[0], user_out.counters[1],
         user_out.counters[2]);
  tap_ok(probe_result == PROBE_RESULT, "return value arrives in EAX (0x%08x)", probe_result);
  tap_ok(user_out.probe_bad == 0,
         "EBX ECX EDX ESI EDI EBP ESP CF DF preserved across int $0x80 (bad mask 0x%x)",
         user_out.probe_bad);
  const struct trap_frame* f = &probe_frame;
  tap_ok(f->ebx == PROBE_EBX && f->ecx == PROBE_ECX && f->edx == PROBE_EDX && f->esi == PROBE_ESI &&
             f->edi == PROBE_EDI && f->ebp == PROBE_EBP && f->eax == SYS_PROBE &&
             f->vector == SYSCALL_VECTOR && f->error == 0,
         "frame holds the caller's registers (eax %x ebx %x ecx %x edx %x esi %x edi %x ebp %x)",
         f->eax, f->ebx, f->ecx, f->edx, f->esi, f->edi, f->ebp);
  tap_ok((f->cs & 0xffff) == SEL_USER_CODE && (f->user_ss & 0xffff) == SEL_USER_DATA,
         "frame CS:SS = %04x:%04x (RPL 3)", f->cs & 0xffff, f->user_ss & 0xffff);
  tap_ok(f->user_esp == probe_user_esp && f->user_esp > (uint32_t)user_stack &&
             f->user_esp <= (uint32_t)(user_stack + sizeof user_stack),
         "frame ESP 0x%08x is the user's 0x%08x", f->user_esp, probe_user_esp);
  tap_ok((f->ds & 0xffff) == SEL_USER_DATA && (f->es & 0xffff) == SEL_USER_DATA &&
             (f->fs & 0xffff) == SEL_USER_DATA && (f->gs & 0xffff) == SEL_USER_DATA,
         "frame DS ES FS GS = %04x %04x %04x %04x", f->ds & 0xffff, f->es & 0xffff, f->fs & 0xffff,
         f->gs & 0xffff);
  tap_ok((f->eflags & EFLAGS_IF) && (f->eflags & EFLAGS_IOPL_MASK) == 0 &&
             (f->eflags & (EFLAGS_CF | EFLAGS_DF)) == (EFLAGS_CF | EFLAGS_DF),
         "frame EFLAGS 0x%08x: IF 1, IOPL 0, the caller's CF and DF", f->eflags);
  tap_ok(user_out.unknown_result == SYS_ENOSYS, "unknown system call returns 0x%x",
         user_out.unknown_result);
  code = user_run(user_second, user_stack + sizeof user_stack, 0);
  tap_ok(code == SECOND_EXIT_CODE, "a second ring-3 program runs and exits (0x%x)", code);
  tap_done();
}
