/* The interrupt window around sti (SDM Vol. 2 STI): with IRQ 0 pending in the PIC and IF = 0,
   `sti; cli` delivers nothing, however often it runs (the shadow covers the cli), and the
   interrupt stays pending; `sti; nop` delivers it exactly once, right after the nop; after
   `sti; jmp` it arrives at the jump's target; a page boundary between sti and the next
   instruction changes nothing; a second sti (IF already 1) and popf set no shadow; `sti; hlt`
   wakes on it. In ring 0 and in ring 3 with IOPL 3 (sti/cli allowed there).
   The mov ss shadow cannot be observed with one PIC interrupt: an interrupt becomes deliverable
   only through sti/popf/iret (IF) or an out to the PIC, and `sti; mov ss` is left open by the
   SDM. The debug guest checks the mov ss shadow through EFLAGS.TF.
   The handler masks IRQ 0, so one pending request is delivered at most once; every wait for
   the PIT is bounded by an iteration cap, so a VMM that never raises IRQ 0 gets `not ok`. */
#include <stdint.h>

#include "desc.h"
#include "idt.h"
#include "kprintf.h"
#include "multiboot.h"
#include "pic.h"
#include "pit.h"
#include "protected_init.h"
#include "syscall.h"
#include "tap.h"
#include "user.h"
#include "windows.h"

enum {
  TIMER_HZ = 1000,
  TIMER_IRQ = 0,
  SPIN_CAP = 20000000,
  STI_CLI_ROUNDS = 100000,
  USER_STACK_SIZE = 0x4000,
};

static volatile uint32_t delivered, last_eip, last_cs;
static uint8_t user_stack[USER_STACK_SIZE] __attribute__((aligned(16)));

static void on_tick(struct trap_frame* f) {
  delivered++;
  last_eip = f->eip;
  last_cs = f->cs;
  pic_mask(TIMER_IRQ); /* one delivery per pending request: no second tick sneaks in */
  pic_eoi(TIMER_IRQ);
}

/* With IF = 0: unmasks IRQ 0 and waits until the PIT has raised it. Returns 1 if it is
   pending. */
static int make_pending(void) {
  __asm__ volatile("cli" ::: "memory");
  pic_unmask(TIMER_IRQ);
  for (uint32_t i = 0; i < SPIN_CAP; i++)
    if (pic_irr() & (1u << TIMER_IRQ)) return 1;
  return 0;
}

/* Runs `probe` (ring 0, or ring 3 with IOPL 3) with a fresh pending interrupt and checks that
   it was delivered once, at `want_eip`. */
struct window {
  const char* what;
  void (*probe)(void);
  const char* want_eip;
};

static void (*user_probe)(void);

static void user_entry(void) {
  user_probe();
  sys_exit(0);
}

static void win_probe(void (*probe)(void), int user) {
  if (user) {
    user_probe = probe;
    user_run(user_entry, user_stack + sizeof user_stack, EFLAGS_IOPL(3));
  } else {
    probe();
  }
}

static void run_window(const struct window* w, int user) {
  const char* ring = user ? "ring 3" : "ring 0";
  if (!make_pending()) {
    tap_ok(0, "%s %s # IRQ 0 never became pending", ring, w->what);
    return;
  }
  uint32_t before = delivered;
  win_probe(w->probe, user);
  uint32_t n = delivered - before;
  uint32_t want_cs = user ? SEL_USER_CODE : SEL_KERNEL_CODE;
  tap_ok(n == 1 && last_eip == (uint32_t)w->want_eip && last_cs == want_cs,
         "%s %s: delivered %u time(s) at %x:%08x (want once at %x:%08x)", ring, w->what, n, last_cs,
         last_eip, want_cs, (uint32_t)w->want_eip);
}

static void sti_cli_rounds(void) {
  win_sti_cli(STI_CLI_ROUNDS);
}

/* sti; cli many times with the interrupt pending: nothing, it stays pending, and the loop ends.
   Then sti; nop takes it. */
static void sti_cli_then_nop(int user) {
  const char* ring = user ? "ring 3" : "ring 0";
  if (!make_pending()) {
    tap_ok(0, "%s sti; cli # IRQ 0 never became pending", ring);
    tap_ok(0, "%s then sti; nop # not tried", ring);
    return;
  }
  uint32_t before = delivered;
  win_probe(sti_cli_rounds, user);
  uint32_t n = delivered - before;
  uint16_t irr = pic_irr();
  tap_ok(n == 0 && (irr & (1u << TIMER_IRQ)),
         "%s %u x sti; cli with IRQ 0 pending: delivered %u time(s), still pending (IRR %04x)",
         ring, STI_CLI_ROUNDS, n, irr);
  /* No make_pending(): the same request, still latched, is what sti; nop must take. */
  uint32_t before_nop = delivered;
  win_probe(win_sti_nop, user);
  n = delivered - before_nop;
  uint32_t want_cs = user ? SEL_USER_CODE : SEL_KERNEL_CODE;
  tap_ok(n == 1 && last_eip == (uint32_t)win_sti_nop_after && last_cs == want_cs,
         "%s then sti; nop: delivered %u time(s) at %x:%08x (want once at %x:%08x)", ring, n,
         last_cs, last_eip, want_cs, (uint32_t)win_sti_nop_after);
}

static const struct window kWindows[] = {
    {"sti; jmp", win_sti_jmp, win_sti_jmp_target},
    {"sti at a page end; nop", win_page_sti, win_page_after},
    {"sti; sti (no second shadow)", win_sti_sti, win_sti_sti_after},
    {"popf setting IF (no shadow)", win_popf, win_popf_after},
};

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  (void)mbi;
  protected_init();
  syscall_init();
  idt_set_gate(PIC_MASTER_VECTOR + TIMER_IRQ, GATE_INTERRUPT, 0);
  trap_register(PIC_MASTER_VECTOR + TIMER_IRQ, on_tick);

  const unsigned nwin = sizeof kWindows / sizeof kWindows[0];
  tap_plan(2 + 2 * (2 + nwin) + 1);
  uint32_t page_sti = (uint32_t)win_page_sti;
  __asm__("" : "+r"(page_sti)); /* gcc folds the low bits of a function's address */
  tap_ok((page_sti & 0xfff) == 0xfff, "the page-end sti is at %08x", page_sti);
  pit_start(TIMER_HZ, PIT_MODE_RATE);
  for (int user = 0; user <= 1; user++) {
    sti_cli_then_nop(user);
    for (unsigned i = 0; i < nwin; i++) run_window(&kWindows[i], user);
  }
  struct window hlt = {"sti; hlt", win_sti_hlt, win_sti_hlt_after};
  run_window(&hlt, 0);
  pic_mask(TIMER_IRQ);
  tap_ok(pic_isr() == 0, "every delivery was EOId (ISR %04x)", pic_isr());
  tap_done();
}
