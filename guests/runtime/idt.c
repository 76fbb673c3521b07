#include "idt.h"

#include "desc.h"
#include "exit.h"
#include "kprintf.h"

enum {
  IDT_ENTRIES = 256,
  STUB_SIZE = 16, /* as in isr.S */
  EXIT_UNHANDLED_TRAP = 3,
};

extern const char isr_stubs[];
extern const char user_fell_off[]; /* user.c */

static uint64_t idt[IDT_ENTRIES] __attribute__((aligned(8)));
static trap_handler handlers[IDT_ENTRIES];

static void set_entry(int vector, uint32_t offset, enum gate_type type, int dpl) {
  uint64_t d = offset & 0xffff;
  d |= (uint64_t)SEL_KERNEL_CODE << 16;
  d |= (uint64_t)(0x80 | (dpl & 3) << 5 | type) << 40;
  d |= (uint64_t)(offset >> 16) << 48;
  idt[vector & 0xff] = d;
}

void idt_set_gate(int vector, enum gate_type type, int dpl) {
  set_entry(vector, (uint32_t)(isr_stubs + STUB_SIZE * (vector & 0xff)), type, dpl);
}

void idt_set_raw_gate(int vector, void (*entry)(void), enum gate_type type, int dpl) {
  set_entry(vector, (uint32_t)entry, type, dpl);
}

void idt_clear_gate(int vector) {
  idt[vector & 0xff] = 0;
}

void idt_init(void) {
  for (int v = 0; v < 32; v++) idt_set_gate(v, GATE_INTERRUPT, 0);
  /* int3 and into are `int n` instructions as far as the gate's DPL is concerned. */
  idt_set_gate(VEC_BP, GATE_INTERRUPT, 3);
  idt_set_gate(VEC_OF, GATE_INTERRUPT, 3);
  struct {
    uint16_t limit;
    uint32_t base;
  } __attribute__((packed)) idtr = {sizeof idt - 1, (uint32_t)idt};
  __asm__ volatile("lidt %0" : : "m"(idtr));
}

void trap_register(int vector, trap_handler handler) {
  handlers[vector & 0xff] = handler;
}

void trap_dispatch(struct trap_frame* f) {
  trap_handler h = handlers[f->vector & 0xff];
  if (h) {
    h(f);
    return;
  }
  /* Stop: resuming would most likely repeat the fault forever. */
  kprintf("Bail out! unexpected trap: vector %u error 0x%x at %04x:%08x eflags 0x%08x", f->vector,
          f->error, f->cs & 0xffff, f->eip, f->eflags);
  if (trap_from_user(f)) kprintf(" user ss:esp %04x:%08x", f->user_ss & 0xffff, f->user_esp);
  kputc('\n');
  if (f->eip == (uint32_t)user_fell_off) kprintf("# (a ring-3 entry function returned)\n");
  guest_exit(EXIT_UNHANDLED_TRAP);
}
