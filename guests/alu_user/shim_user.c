/* The alu workload in ring 3: the kernel half sets up protection and system calls and runs
   alu_main() as user code; the user half formats each result line itself and prints it with
   SYS_WRITE, since ring 3 may not touch the serial port. The output must equal alu_native's. */
#include <stdint.h>

#include "alu.h"
#include "desc.h"
#include "idt.h"
#include "multiboot.h"
#include "pic.h"
#include "serial.h"
#include "syscall.h"
#include "user.h"
#include "protected_init.h"

enum {
  /* As large as the boot stack the ring-0 alu guest recurses on. */
  USER_STACK_SIZE = 0x10000,
  EXIT_DONE = 0x600d,
};

static uint8_t user_stack[USER_STACK_SIZE] __attribute__((aligned(16)));

/* --- ring 3 ------------------------------------------------------------------------------- */

void alu_report(const char* name, uint32_t checksum) {
  char line[64];
  uint32_t n = 0;
  for (const char* p = "alu."; *p; p++) line[n++] = *p;
  for (; *name && n < sizeof line - 16; name++) line[n++] = *name;
  line[n++] = ':';
  line[n++] = ' ';
  line[n++] = '0';
  line[n++] = 'x';
  for (int shift = 28; shift >= 0; shift -= 4)
    line[n++] = "0123456789abcdef"[checksum >> shift & 0xf];
  line[n++] = '\n';
  sys_write(line, n);
}

static void user_alu(void) {
  alu_main();
  sys_exit(EXIT_DONE);
}

/* --- kernel ------------------------------------------------------------------------------- */

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  (void)mbi;
  protected_init();
  syscall_init();
  /* Nothing else may be printed: the output is compared with alu_native line by line. A wrong
     exit code still fails through the exit status. */
  return user_run(user_alu, user_stack + sizeof user_stack, EFLAGS_IF) == EXIT_DONE ? 0 : 1;
}
