/* Every exception ring-3 code can cause, and #DE/#BP/#UD from ring 0: the handler checks the
   vector, error code, saved CS:EIP (the faulting instruction for faults, the next one for
   traps) and, from ring 3, the saved SS:ESP, then resumes after the instruction. */
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

enum { USER_STACK_SIZE = 0x4000 };

struct expect {
  const char* name;
  uint32_t vector;
  uint32_t error;
  const char* start; /* the instruction */
  const char* end;   /* the next one */
  int trap;          /* saved EIP = end rather than start */
  uint16_t cs;
  /* What the handler saw. */
  int seen;
  uint32_t got_vector, got_error, got_eip, got_cs, got_ss;
  int stack_ok;
};

#define GP_IDT(vector) ((vector)*8 + 2) /* error code naming an IDT entry */
#define SEL_ERROR(sel) ((sel)&0xfffc)

#define PROBE_AT(name_, vec, err, is_trap, ring_cs, what)                                          \
  {                                                                                                \
    .name = what, .vector = vec, .error = err, .start = probe_##name_, .end = probe_##name_##_end, \
    .trap = is_trap, .cs = ring_cs                                                                 \
  }
#define USER(name, vec, err, is_trap, what) PROBE_AT(name, vec, err, is_trap, SEL_USER_CODE, what)
#define KERNEL(name, vec, err, is_trap, what) \
  PROBE_AT(name, vec, err, is_trap, SEL_KERNEL_CODE, what)

/* In the order the probes run. */
static struct expect expects[] = {
    USER(u_de, VEC_DE, 0, 0, "ring 3 #DE from div by zero"),
    USER(u_bp, VEC_BP, 0, 1, "ring 3 #BP from int3 (trap)"),
    USER(u_of, VEC_OF, 0, 1, "ring 3 #OF from into with OF=1 (trap)"),
    USER(u_ud, VEC_UD, 0, 0, "ring 3 #UD from ud2"),
    USER(u_cli, VEC_GP, 0, 0, "ring 3 #GP(0) from cli at IOPL 0"),
    USER(u_hlt, VEC_GP, 0, 0, "ring 3 #GP(0) from hlt"),
    USER(u_in, VEC_GP, 0, 0, "ring 3 #GP(0) from in at IOPL 0"),
    USER(u_out, VEC_GP, 0, 0, "ring 3 #GP(0) from out at IOPL 0"),
    USER(u_int41, VEC_GP, GP_IDT(VECTOR_DPL0), 0, "ring 3 #GP from int $0x41 through a DPL-0 gate"),
    USER(u_ds_kernel, VEC_GP, SEL_ERROR(SEL_KERNEL_DATA_RPL0), 0,
         "ring 3 #GP loading the DPL-0 data selector into DS"),
    USER(u_ds_limit, VEC_GP, SEL_ERROR(SEL_BEYOND_GDT), 0,
         "ring 3 #GP loading a selector beyond the GDT limit into DS"),
    USER(u_ds_np, VEC_NP, SEL_ERROR(SEL_NOT_PRESENT), 0,
         "ring 3 #NP loading a not-present segment into DS"),
    KERNEL(k_de, VEC_DE, 0, 0, "ring 0 #DE from div by zero"),
    KERNEL(k_bp, VEC_BP, 0, 1, "ring 0 #BP from int3 (trap)"),
    KERNEL(k_ud, VEC_UD, 0, 0, "ring 0 #UD from ud2"),
};
enum { N_EXPECTS = sizeof expects / sizeof expects[0] };

static unsigned next_expect;
static uint8_t user_stack[USER_STACK_SIZE] __attribute__((aligned(16)));
static struct trap_frame exit_frame;
static uint32_t vector_41_calls;

static void on_exception(struct trap_frame* f) {
  if (next_expect >= N_EXPECTS) {
    kprintf("Bail out! unexpected vector %u error 0x%x at %04x:%08x after the last probe\n",
            f->vector, f->error, f->cs & 0xffff, f->eip);
    guest_exit(2);
  }
  struct expect* e = &expects[next_expect++];
  e->seen = 1;
  e->got_vector = f->vector;
  e->got_error = f->error;
  e->got_eip = f->eip;
  e->got_cs = f->cs & 0xffff;
  if (trap_from_user(f)) {
    e->got_ss = f->user_ss & 0xffff;
    e->stack_ok = f->user_esp > (uint32_t)user_stack &&
                  f->user_esp <= (uint32_t)(user_stack + sizeof user_stack);
  } else {
    e->got_ss = 0;
    e->stack_ok = 1;
  }
  /* Resume after the instruction whatever happened, so one wrong answer does not hide the
     others. */
  f->eip = (uint32_t)e->end;
}

static void on_vector_41(struct trap_frame* f) {
  /* The DPL check failed to stop `int $0x41`: count it and let the probe sequence go on. */
  vector_41_calls++;
  (void)f;
}

static uint32_t sys_exit_recording(struct trap_frame* f) {
  exit_frame = *f;
  user_return(f->ebx);
}

static void report(const struct expect* e) {
  uint32_t want_eip = (uint32_t)(e->trap ? e->end : e->start);
  int user = e->cs == SEL_USER_CODE;
  int ok = e->seen && e->got_vector == e->vector && e->got_error == e->error &&
           e->got_eip == want_eip && e->got_cs == e->cs && e->stack_ok &&
           (!user || e->got_ss == SEL_USER_DATA);
  tap_ok(ok, "%s: vector %u error 0x%x eip %08x", e->name, e->vector, e->error, want_eip);
  if (!ok) {
    if (!e->seen)
      kprintf("#   never delivered\n");
    else
      kprintf("#   got vector %u error 0x%x at %04x:%08x ss %04x stack %s\n", e->got_vector,
              e->got_error, e->got_cs, e->got_eip, e->got_ss, e->stack_ok ? "ok" : "wrong");
  }
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  (void)mbi;
  serial_init();
  desc_init();
  /* Writable data, DPL 3, present bit clear. */
  gdt_set(NOT_PRESENT_INDEX, 0, 0xfffff, DESC_CODE_DATA | DESC_RW | DESC_DPL(3),
          DESC_GRAN_4K | DESC_32BIT);
  idt_init();
  pic_init();
  syscall_init();
  syscall_register(SYS_EXIT, sys_exit_recording);
  for (int v = 0; v < 32; v++) trap_register(v, on_exception);
  idt_set_gate(VECTOR_DPL0, GATE_INTERRUPT, 0);
  trap_register(VECTOR_DPL0, on_vector_41);

  unsigned n_user = 0;
  for (unsigned i = 0; i < N_EXPECTS; i++) n_user += expects[i].cs == SEL_USER_CODE;
  tap_plan(N_EXPECTS + 4);
  uint32_t ds = user_run(user_probes, user_stack + sizeof user_stack, EFLAGS_IF);
  unsigned user_faults = next_expect;
  kernel_probes();

  for (unsigned i = 0; i < N_EXPECTS; i++) report(&expects[i]);
  tap_ok(user_faults == n_user, "ring 3 reached its exit after %u of %u exceptions", user_faults,
         n_user);
  /* From the exit call's frame: what the CPU saved is the guest's selector (a directly
     executed program reading DS itself may see the VMM's host alias). */
  (void)ds;
  tap_ok((exit_frame.ds & 0xffff) == SEL_USER_DATA, "DS after the faulting loads is still %04x",
         exit_frame.ds & 0xffff);
  tap_ok(exit_frame.esi == PROBE_ESI && exit_frame.edi == PROBE_EDI && exit_frame.ebp == PROBE_EBP,
         "ESI EDI EBP survived %u exception round trips (%08x %08x %08x)", user_faults,
         exit_frame.esi, exit_frame.edi, exit_frame.ebp);
  tap_ok(vector_41_calls == 0, "the DPL-0 gate 0x41 was never entered from ring 3");
  tap_done();
}
