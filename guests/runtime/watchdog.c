#include "watchdog.h"

#include "exit.h"
#include "idt.h"
#include "kprintf.h"
#include "pic.h"
#include "pit.h"

enum { TIMER_IRQ = 0, EXIT_WATCHDOG = 4 };

static volatile uint32_t ticks, limit;

static void on_tick(struct trap_frame* f) {
  if (++ticks >= limit) {
    kprintf("Bail out! watchdog: still running after %u s, at %04x:%08x\n", limit / WATCHDOG_HZ,
            f->cs & 0xffff, f->eip);
    guest_exit(EXIT_WATCHDOG);
  }
  pic_eoi(TIMER_IRQ);
}

void watchdog_start(uint32_t seconds) {
  ticks = 0;
  limit = seconds * WATCHDOG_HZ;
  idt_set_gate(PIC_MASTER_VECTOR + TIMER_IRQ, GATE_INTERRUPT, 0);
  trap_register(PIC_MASTER_VECTOR + TIMER_IRQ, on_tick);
  pit_start(WATCHDOG_HZ, PIT_MODE_RATE);
  pic_unmask(TIMER_IRQ);
  __asm__ volatile("sti" ::: "memory");
}

void watchdog_stop(void) {
  __asm__ volatile("cli" ::: "memory");
  pic_mask(TIMER_IRQ);
}
