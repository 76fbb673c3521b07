/* Far transfers done as the part does them: a null, empty, LDT (no LDT loaded), busy-TSS or
   not-present target of a far jmp/call/ret/iret raises #GP(selector) (#GP(0) for null, #NP for
   not present) and the handler sees the faulting instruction; a same-privilege call gate goes
   to the gate's target and back; lret $8 to ring 3 loads SS:ESP (releasing the parameters on
   both stacks) and nulls the data segment registers ring 3 may not use. */
#include <stdint.h>

#include "desc.h"
#include "exit.h"
#include "idt.h"
#include "kprintf.h"
#include "multiboot.h"
#include "pic.h"
#include "probes.h"
#include "serial.h"
#include "syscall.h"
#include "tap.h"
#include "user.h"

struct expect {
  const char* name;
  uint32_t vector, error;
  const char *start, *end;
  int seen;
  uint32_t got_vector, got_error, got_eip;
};

#define K(name_, vec, err, what) \
  { .name = what, .vector = vec, .error = err, .start = probe_##name_, .end = probe_##name_##_end }

static struct expect expects[] = {
    K(jmp_null, VEC_GP, 0, "ljmp to the null selector: #GP(0)"),
    K(jmp_empty, VEC_GP, SEL_EMPTY, "ljmp to an empty GDT entry: #GP(selector)"),
    K(call_empty, VEC_GP, SEL_EMPTY, "lcall to an empty GDT entry: #GP(selector)"),
    K(call_ldt, VEC_GP, SEL_LDT_NONE & ~3, "lcall to an LDT selector with no LDT: #GP(selector)"),
    K(jmp_busy_tss, VEC_GP, SEL_TSS_BUSY, "ljmp to the busy TSS: #GP(selector)"),
    K(jmp_np, VEC_NP, SEL_NP_CODE, "ljmp to a not-present code segment: #NP(selector)"),
    K(ret_empty, VEC_GP, SEL_EMPTY, "lret to an empty GDT entry: #GP(selector)"),
    K(ret_tss, VEC_GP, SEL_TSS_BUSY, "lret to a TSS descriptor: #GP(selector)"),
    K(iret_empty, VEC_GP, SEL_EMPTY, "iret to an empty GDT entry: #GP(selector)"),
};
enum { N_EXPECTS = sizeof expects / sizeof expects[0] };

static unsigned next_expect;
static struct trap_frame exit_frame;
static uint8_t user_stack[0x2000] __attribute__((aligned(16)));

static void on_fault(struct trap_frame* f) {
  if (next_expect >= N_EXPECTS || trap_from_user(f)) {
    kprintf("Bail out! unexpected vector %u error 0x%x at %04x:%08x\n", f->vector, f->error,
            f->cs & 0xffff, f->eip);
    guest_exit(2);
  }
  struct expect* e = &expects[next_expect++];
  e->seen = 1;
  e->got_vector = f->vector;
  e->got_error = f->error;
  e->got_eip = f->eip;
  f->eip = (uint32_t)e->end;
}

static uint32_t sys_exit_recording(struct trap_frame* f) {
  exit_frame = *f;
  user_return(f->ebx);
}

/* A call gate in GDT entry `index` through gdt_set's fields: offset 15..0 in the limit, the
   selector in base 15..0, offset 31..16 in limit 19..16, the flags and base 31..24. */
static void set_call_gate(int index, uint16_t sel, uint32_t offset, int dpl) {
  const uint8_t access = DESC_PRESENT | DESC_DPL(dpl) | 0x0c; /* 32-bit call gate */
  gdt_set(index, sel | (offset & 0xff000000u), (offset & 0xffff) | ((offset >> 16) & 0xf) << 16,
          access, (offset >> 20) & 0xf);
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  (void)mbi;
  serial_init();
  desc_init();
  set_call_gate(GATE_INDEX, SEL_KERNEL_CODE, (uint32_t)gate_target, 0);
  gdt_set(NP_CODE_INDEX, 0, 0xfffff, DESC_CODE_DATA | DESC_CODE | DESC_RW,
          DESC_GRAN_4K | DESC_32BIT);
  idt_init();
  pic_init();
  syscall_init();
  syscall_register(SYS_EXIT, sys_exit_recording);
  trap_register(VEC_GP, on_fault);
  trap_register(VEC_NP, on_fault);

  tap_plan(N_EXPECTS + 5);
  kernel_probes();
  for (unsigned i = 0; i < N_EXPECTS; i++) {
    const struct expect* e = &expects[i];
    int ok = e->seen && e->got_vector == e->vector && e->got_error == e->error &&
             e->got_eip == (uint32_t)e->start;
    tap_ok(ok, "%s", e->name);
    if (!ok)
      kprintf("#   %s vector %u error 0x%x eip %08x (want %u 0x%x %08x)\n",
              e->seen ? "got" : "never delivered", e->got_vector, e->got_error, e->got_eip,
              e->vector, e->error, (uint32_t)e->start);
  }

  uint32_t r = call_gate();
  tap_ok(r == ((uint32_t)SEL_KERNEL_CODE << 16 | 0x9a7e),
         "lcall through a same-privilege call gate reaches its target and returns (0x%08x)", r);

  uint32_t top = (uint32_t)(user_stack + sizeof user_stack);
  uint32_t esp = lret_to_user(user_report, top);
  tap_ok(esp == top, "lret $8 to ring 3: ESP %08x releases the parameters on the outer stack (%08x)",
         esp, top);
  tap_ok((exit_frame.cs & 0xffff) == SEL_USER_CODE && (exit_frame.user_ss & 0xffff) == SEL_USER_DATA,
         "lret to ring 3 loaded CS %04x SS %04x", exit_frame.cs & 0xffff,
         exit_frame.user_ss & 0xffff);
  tap_ok((exit_frame.ds & 0xfffc) == 0 && (exit_frame.es & 0xfffc) == 0 &&
             (exit_frame.fs & 0xfffc) == 0 && (exit_frame.gs & 0xfffc) == 0,
         "lret to ring 3 nulled the DPL-0 data segments (ds %04x es %04x fs %04x gs %04x)",
         exit_frame.ds & 0xffff, exit_frame.es & 0xffff, exit_frame.fs & 0xffff,
         exit_frame.gs & 0xffff);
  tap_ok(next_expect == N_EXPECTS, "no other fault (%u of %u)", next_expect, N_EXPECTS);
  tap_done();
}
