/* IRQ 0 from the PIT through the PIC: ticks reach ring 3 and ring 0 with IF = 1, wake hlt,
   stay pending while IF = 0 and arrive right after sti. Then the CMOS clock and the i8042
   status. Every wait is bounded by PIT periods and by an iteration cap, so a VMM that never
   delivers an interrupt gets `not ok`, not a hang (hlt is only tried once ticks are seen). */
#include <stdint.h>

#include "cmdline.h"
#include "cmos.h"
#include "desc.h"
#include "idt.h"
#include "kprintf.h"
#include "multiboot.h"
#include "pic.h"
#include "pit.h"
#include "portio.h"
#include "protected_init.h"
#include "serial.h"
#include "syscall.h"
#include "tap.h"
#include "user.h"

enum {
  TIMER_HZ = 1000,
  TIMER_IRQ = 0,
  SPURIOUS_IRQ = 7,
  USER_STACK_SIZE = 0x4000,
  WANT_TICKS = 5,
  /* Far more PIT periods than any of the waits needs. */
  WAIT_PERIODS = 200,
  CLI_PERIODS = 5,
  /* Last resort if the PIT count never wraps either. */
  SPIN_CAP = 20000000,
  /* Ring 3 cannot read the PIT: it spins on the tick counter alone. */
  USER_SPIN_CAP = 400000000,
  /* sti must deliver the pending tick within a few instructions, not a period later. */
  PROMPT_CAP = 1000,
  HLT_ROUNDS = 3,
};

static volatile uint32_t ticks, user_ticks, kernel_ticks, spurious;
static uint16_t reload;
static uint8_t user_stack[USER_STACK_SIZE] __attribute__((aligned(16)));

static void on_tick(struct trap_frame* f) {
  ticks++;
  if (trap_from_user(f))
    user_ticks++;
  else
    kernel_ticks++;
  pic_eoi(TIMER_IRQ);
}

static void on_spurious(struct trap_frame* f) {
  /* A spurious IRQ 7 is not in service: no EOI. */
  (void)f;
  spurious++;
}

static inline void sti(void) {
  __asm__ volatile("sti" ::: "memory");
}
static inline void cli(void) {
  __asm__ volatile("cli" ::: "memory");
}

/* Counts PIT periods by watching the count wrap (it runs down from the reload value). */
struct period_clock {
  uint16_t last;
  uint32_t periods;
};

static void period_clock_start(struct period_clock* c) {
  c->last = pit_read_count();
  c->periods = 0;
}

static void period_clock_poll(struct period_clock* c) {
  uint16_t now = pit_read_count();
  if (now > c->last) c->periods++;
  c->last = now;
}

/* Spins (reading the PIT) until `ticks` reaches `target`; returns 1 if it did. */
static int wait_ticks(uint32_t target, uint32_t max_periods) {
  struct period_clock c;
  period_clock_start(&c);
  for (uint32_t i = 0; i < SPIN_CAP && c.periods < max_periods; i++) {
    if (ticks >= target) return 1;
    period_clock_poll(&c);
  }
  return ticks >= target;
}

static void check_pit_count(void) {
  uint32_t in_range = 1, decreasing = 0;
  uint16_t prev = pit_read_count();
  for (int i = 0; i < 1000; i++) {
    uint16_t now = pit_read_count();
    if (now < 1 || now > reload) in_range = 0;
    if (now < prev) decreasing++;
    prev = now;
  }
  tap_ok(in_range && decreasing > 0,
         "PIT count stays in 1..%u and decreases (%u of 1000 reads lower than the one before)",
         reload, decreasing);
}

static void check_kernel_ticks(void) {
  uint32_t start = ticks, kstart = kernel_ticks;
  sti();
  int ok = wait_ticks(start + WANT_TICKS, WAIT_PERIODS);
  cli();
  tap_ok(ok && kernel_ticks - kstart >= WANT_TICKS,
         "%d ticks arrive while ring 0 spins with IF=1 (saw %u)", WANT_TICKS,
         kernel_ticks - kstart);
  uint16_t isr = pic_isr();
  tap_ok(kernel_ticks > kstart && isr == 0, "%u ticks handled and EOId: ISR 0x%04x",
         kernel_ticks - kstart, isr);
}

static void check_hlt(int ticks_work) {
  if (!ticks_work) {
    /* hlt would sleep forever. */
    tap_ok(0, "sti; hlt wakes on a tick # not tried: no ticks arrive");
    return;
  }
  int woke = 0;
  for (int i = 0; i < HLT_ROUNDS; i++) {
    uint32_t before = ticks;
    __asm__ volatile("sti; hlt; cli" ::: "memory");
    woke += ticks != before;
  }
  tap_ok(woke == HLT_ROUNDS, "sti; hlt wakes on a tick (%d of %d)", woke, HLT_ROUNDS);
}

/* QEMU raises IRQ 0 from its main loop, which lags the PIT count it computes from the clock
   when the host is loaded: booted with "timer.qemu", the two checks that need the latched tick
   within a few PIT periods under cli are reported as TAP skips (and only then). */
static int qemu_gaps;

static void check_cli(void) {
  cli();
  uint32_t start = ticks;
  struct period_clock c;
  period_clock_start(&c);
  for (uint32_t i = 0; i < SPIN_CAP && c.periods < CLI_PERIODS; i++) period_clock_poll(&c);
  uint32_t during = ticks - start;
  uint16_t irr = pic_irr();
  tap_ok(c.periods >= CLI_PERIODS && during == 0,
         "no tick while IF=0 across %u PIT periods (saw %u)", c.periods, during);
  if (qemu_gaps)
    tap_ok(1, "IRQ 0 is pending in the IRR meanwhile # SKIP QEMU raises it late on a loaded host");
  else
    tap_ok(irr & (1u << TIMER_IRQ), "IRQ 0 is pending in the IRR meanwhile (IRR 0x%04x)", irr);
  uint32_t i = 0;
  sti();
  while (ticks == start && i < PROMPT_CAP) i++;
  cli();
  /* At least the latched tick; a second one is a new PIT period when the host is slow (an
     emulated CPU can spend a period in the handler), not a duplicate. */
  if (qemu_gaps)
    tap_ok(1, "after sti the pending tick arrives at once # SKIP QEMU raises it late");
  else
    tap_ok(ticks >= start + 1 && i < PROMPT_CAP,
           "after sti the pending tick arrives at once (%u tick(s) within %u loop iterations)",
           ticks - start, i);
}

static void user_spin(void) {
  uint32_t target = ticks + WANT_TICKS;
  uint32_t i = 0;
  while (ticks < target && i < USER_SPIN_CAP) i++;
  sys_exit(ticks >= target);
}

static void check_user_ticks(void) {
  uint32_t ustart = user_ticks;
  uint32_t reached = user_run(user_spin, user_stack + sizeof user_stack, EFLAGS_IF);
  tap_ok(reached && user_ticks - ustart >= WANT_TICKS,
         "%d ticks arrive while ring 3 spins, taken from ring 3 (saw %u)", WANT_TICKS,
         user_ticks - ustart);
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  qemu_gaps = cmdline_has_word(mbi, "timer.qemu");
  protected_init();
  syscall_init();
  idt_set_gate(PIC_MASTER_VECTOR + TIMER_IRQ, GATE_INTERRUPT, 0);
  trap_register(PIC_MASTER_VECTOR + TIMER_IRQ, on_tick);
  idt_set_gate(PIC_MASTER_VECTOR + SPURIOUS_IRQ, GATE_INTERRUPT, 0);
  trap_register(PIC_MASTER_VECTOR + SPURIOUS_IRQ, on_spurious);

  tap_plan(15);
  reload = pit_start(TIMER_HZ, PIT_MODE_RATE);
  kprintf("# PIT channel 0: %u Hz, reload %u\n", TIMER_HZ, reload);
  check_pit_count();
  pic_unmask(TIMER_IRQ);
  check_kernel_ticks();
  check_hlt(kernel_ticks >= WANT_TICKS);
  check_cli();
  check_user_ticks();
  pic_mask(TIMER_IRQ);
  kprintf("# ticks %u (ring 0 %u, ring 3 %u), spurious IRQ 7: %u\n", ticks, kernel_ticks,
          user_ticks, spurious);

  cmos_checks();
  i8042_checks();
  tap_done();
}
