/* x87 errors with CR0.NE = 0, as a PC reports them (MS-DOS compatibility mode): the waiting
   instruction after an unmasked error asserts FERR#, the chipset latches it into IRQ 13 (the
   slave PIC's IRQ 5), and the CPU waits before that instruction until the interrupt comes. The
   handler writes port 0xF0 (clearing the request; IGNNE# while the error is still pending) and
   clears the error with fnclex, or leaves it, in which case the waiting instructions go on
   under IGNNE# until the error is cleared; a new error then requests IRQ 13 again.
   No QEMU cross-check: Debian's QEMU 7.2 aborts when TCG raises FERR# (QEMU issue 1808,
   fixed in 8.1). */
#include <stdint.h>

#include "idt.h"
#include "kprintf.h"
#include "multiboot.h"
#include "paging.h"
#include "pic.h"
#include "portio.h"
#include "protected_init.h"
#include "syscall.h"
#include "tap.h"
#include "user.h"

#define CR0_MP 0x2u
#define CR0_EM 0x4u
#define CR0_TS 0x8u
#define CR0_NE 0x20u
#define FSW_ZE 0x04u
#define FSW_ES 0x80u
#define FERR_IRQ 13

static volatile unsigned irqs;
static volatile uint32_t irq_eip;
static volatile uint16_t irq_fsw;
static volatile int clear_in_handler;
static volatile int irq_from_user;
void user_ferr(void);
extern const uint8_t user_fwait[];
static uint8_t user_stack[0x2000] __attribute__((aligned(16)));

static void on_irq13(struct trap_frame* f) {
  irqs++;
  irq_eip = f->eip;
  irq_from_user = trap_from_user(f);
  uint16_t sw;
  __asm__ volatile("fnstsw %0" : "=m"(sw));
  irq_fsw = sw;
  outb(0xf0, 0);
  if (clear_in_handler) __asm__ volatile("fnclex");
  pic_eoi(FERR_IRQ);
}

/* 1/0 with zero-divide unmasked: pending until the next waiting instruction. */
static void raise_zero_divide(void) {
  static const uint16_t cw = 0x037b;
  __asm__ volatile("fninit; fldcw %0; fld1; fldz; fdivrp" ::"m"(cw));
}

/* fwait with interrupts on; returns its address. The jmp ends a block, so that an emulator
   that raises the interrupt after the instruction takes it before cli. */
static uint32_t fwait_with_interrupts(void) {
  uint32_t at;
  __asm__ volatile(
      "movl $1f, %0\n"
      "sti\n"
      "nop\n"
      "1: fwait\n"
      "nop\n"
      "jmp 2f\n"
      "2: nop\n"
      "cli"
      : "=r"(at)::"memory");
  return at;
}

static uint16_t fsw(void) {
  uint16_t sw;
  __asm__ volatile("fnstsw %0" : "=m"(sw));
  return sw;
}

static void handler_clears(void) {
  clear_in_handler = 1;
  irqs = 0;
  raise_zero_divide();
  const uint32_t at = fwait_with_interrupts();
  tap_ok(irqs == 1 && (irq_fsw & (FSW_ES | FSW_ZE)) == (FSW_ES | FSW_ZE),
         "IRQ 13 once for the waiting instruction after the error (FSW %04x in the handler)",
         irq_fsw);
  tap_ok(irq_eip == at, "the CPU waits before the instruction: IRQ 13 at %08x (fwait %08x)",
         irq_eip, at);
  fwait_with_interrupts();
  tap_ok(irqs == 1 && !(fsw() & FSW_ES), "cleared by the handler: the next fwait raises nothing");
}

static void handler_leaves_the_error(void) {
  clear_in_handler = 0;
  irqs = 0;
  raise_zero_divide();
  fwait_with_interrupts();
  fwait_with_interrupts();
  tap_ok(
      irqs == 1 && (fsw() & (FSW_ES | FSW_ZE)) == (FSW_ES | FSW_ZE),
      "port 0xF0 with the error still pending: IGNNE#, the waiting instructions go on, the error "
      "stays (%u)",
      irqs);
  /* fnclex drops FERR# and IGNNE#; a new error requests IRQ 13 again, all in one stretch. */
  clear_in_handler = 1;
  __asm__ volatile(
      "fnclex\n"
      "fld1\n"
      "fldz\n"
      "fdivrp\n"
      "sti\n"
      "nop\n"
      "fwait\n"
      "nop\n"
      "jmp 1f\n"
      "1: nop\n"
      "cli" ::
          : "memory");
  tap_ok(irqs == 2, "after fnclex a new error requests IRQ 13 again (%u)", irqs);
}

/* Ring 3 (run directly on the host where bt86 can): the IRQ arrives from user code, before its
   waiting instruction, and the program goes on after the handler. */
static void from_ring3(void) {
  clear_in_handler = 1;
  irqs = 0;
  const uint32_t r = user_run(user_ferr, user_stack + sizeof user_stack, EFLAGS_IF);
  tap_ok(r == 0 && irqs == 1 && irq_from_user && irq_eip == (uint32_t)user_fwait,
         "ring 3: IRQ 13 before the user's waiting instruction (%u at %08x, fwait %08x)", irqs,
         irq_eip, (uint32_t)user_fwait);
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  (void)mbi;
  protected_init();
  syscall_init();
  idt_set_gate(PIC_SLAVE_VECTOR + FERR_IRQ - 8, GATE_INTERRUPT, 0);
  trap_register(PIC_SLAVE_VECTOR + FERR_IRQ - 8, on_irq13);
  pic_unmask(FERR_IRQ);
  write_cr0((read_cr0() & ~(CR0_EM | CR0_TS | CR0_NE)) | CR0_MP);
  tap_plan(6);
  handler_clears();
  handler_leaves_the_error();
  from_ring3();
  tap_done();
}
