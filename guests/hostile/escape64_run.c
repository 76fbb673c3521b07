#include "escape64_run.h"

#include <stdint.h>

#include "desc.h"
#include "exit.h"
#include "idt.h"
#include "kprintf.h"
#include "pic.h"
#include "pit.h"
#include "serial.h"
#include "tap.h"
#include "user.h"

static uint8_t user_stack[0x4000] __attribute__((aligned(16)));

static void on_gp(struct trap_frame* f) {
  tap_ok(trap_from_user(f) && f->error == 0x30, "ring-3 far jmp to 0x33: #GP(0x%x)", f->error);
  tap_done();
}

static void on_tick(struct trap_frame* f) {
  (void)f;
  pic_eoi(0);
}

void escape64_run(void (*entry)(void), int ticks) {
  serial_init();
  desc_init();
  idt_init();
  pic_init();
  trap_register(13, on_gp);
  idt_set_gate(PIC_MASTER_VECTOR, GATE_INTERRUPT, 0);
  trap_register(PIC_MASTER_VECTOR, on_tick);
  if (ticks) {
    pit_start(100, PIT_MODE_RATE);
    pic_unmask(0);
  }
  tap_plan(1);
  user_run(entry, user_stack + sizeof user_stack, EFLAGS_IF);
  kprintf("Bail out! ring 3 returned\n");
  guest_exit(2);
}
