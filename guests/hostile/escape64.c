/* A far jump from ring 3 to 0x33, the x86-64 host's 64-bit user code selector, into a 64-bit
   spin loop (SECURITY.md, issue 12). On a Pentium III the guest's own descriptor decides: here
   GDT index 6 is empty, so #GP(0x30), which this guest reports as passing. A VMM that runs ring
   3 directly on an x86-64 host cannot see that far jump; bt86 must then never return into the
   64-bit code: the next timer tick stops the VM with a "security:" report (exit status 4),
   which scripts/vm/compat-suite.sh checks. */
#include <stdint.h>

#include "desc.h"
#include "exit.h"
#include "idt.h"
#include "kprintf.h"
#include "multiboot.h"
#include "pic.h"
#include "pit.h"
#include "serial.h"
#include "tap.h"
#include "user.h"

void escape64(void);
/* On a page of its own, so that no byte pattern elsewhere (cpuid, syscall, ...) sends the page
   to bt86's translator instead of running it directly. */
__asm__(
    ".text\n"
    ".p2align 12\n"
    "escape64:\n"
    "  ljmp $0x33, $spin64\n"
    "spin64:\n"
    "  jmp spin64\n" /* EB FE: the same loop in 64-bit mode */
    ".p2align 12\n");

static uint8_t user_stack[0x4000] __attribute__((aligned(16)));

static void on_gp(struct trap_frame* f) {
  tap_ok(trap_from_user(f) && f->error == 0x30, "ring-3 far jmp to 0x33: #GP(0x%x)", f->error);
  tap_done();
}

static void on_tick(struct trap_frame* f) {
  (void)f;
  pic_eoi(0);
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  (void)mbi;
  serial_init();
  desc_init();
  idt_init();
  pic_init();
  trap_register(13, on_gp);
  idt_set_gate(PIC_MASTER_VECTOR, GATE_INTERRUPT, 0);
  trap_register(PIC_MASTER_VECTOR, on_tick);
  pit_start(100, PIT_MODE_RATE);
  pic_unmask(0);
  tap_plan(1);
  user_run(escape64, user_stack + sizeof user_stack, EFLAGS_IF);
  kprintf("Bail out! ring 3 returned\n");
  guest_exit(2);
}
