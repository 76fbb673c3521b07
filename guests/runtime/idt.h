/* Interrupts and exceptions: an IDT whose gates lead to assembly stubs (isr.S) that save a
   uniform trap_frame and call trap_dispatch(), which runs the handler registered for the
   vector. Handlers may change the frame (EIP, EAX...): the stub restores it and irets, to the
   same ring or to ring 3. */
#ifndef BT86_GUEST_IDT_H
#define BT86_GUEST_IDT_H

#include <stdint.h>

/* As the stubs push it: the lowest address first. */
struct trap_frame {
  uint32_t gs, fs, es, ds;
  uint32_t edi, esi, ebp, esp_pusha, ebx, edx, ecx, eax; /* pusha; esp_pusha is ignored */
  uint32_t vector;
  uint32_t error; /* the CPU's error code, or 0 for vectors without one */
  uint32_t eip, cs, eflags;
  /* Only pushed by the CPU when the interrupt came from an outer ring ((cs & 3) != 0). */
  uint32_t user_esp, user_ss;
};

enum gate_type {
  GATE_INTERRUPT = 0xe, /* IF cleared on entry */
  GATE_TRAP = 0xf,      /* IF unchanged */
};

/* Exception vectors. */
enum {
  VEC_DE = 0,
  VEC_DB = 1,
  VEC_NMI = 2,
  VEC_BP = 3,
  VEC_OF = 4,
  VEC_BR = 5,
  VEC_UD = 6,
  VEC_NM = 7,
  VEC_DF = 8,
  VEC_TS = 10,
  VEC_NP = 11,
  VEC_SS = 12,
  VEC_GP = 13,
  VEC_PF = 14,
  VEC_MF = 16,
  VEC_AC = 17,
};

#define EFLAGS_CF 0x00000001u
#define EFLAGS_RESERVED 0x00000002u /* always 1 */
#define EFLAGS_IF 0x00000200u
#define EFLAGS_DF 0x00000400u
#define EFLAGS_OF 0x00000800u
#define EFLAGS_IOPL(n) ((uint32_t)(n) << 12)
#define EFLAGS_IOPL_MASK 0x00003000u

typedef void (*trap_handler)(struct trap_frame* frame);

/* Installs interrupt gates (DPL 0) for the exceptions 0-31, except #BP and #OF, which get
   DPL 3 so that int3 and into work from ring 3; other vectors start not present. Loads IDTR. */
void idt_init(void);

/* Points `vector` at its dispatcher stub with the given gate type and DPL (the lowest CPL that
   may use `int vector`; hardware interrupts and exceptions ignore it). */
void idt_set_gate(int vector, enum gate_type type, int dpl);
/* Points `vector` at an entry of the caller's own (it must end with iret itself). */
void idt_set_raw_gate(int vector, void (*entry)(void), enum gate_type type, int dpl);
void idt_clear_gate(int vector);

/* A vector without a handler stops the guest with a diagnostic and a failing exit status. */
void trap_register(int vector, trap_handler handler);
void trap_dispatch(struct trap_frame* frame);

static inline int trap_from_user(const struct trap_frame* f) {
  return (f->cs & 3) != 0;
}

static inline uint32_t read_eflags(void) {
  uint32_t v;
  __asm__ volatile("pushfl; popl %0" : "=r"(v));
  return v;
}

#endif
