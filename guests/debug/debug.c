/* EFLAGS.TF single-stepping as on the part: a #DB (DR6.BS, a trap: the saved EIP is the next
   instruction) after every instruction run with TF set, none after the popf or iret that sets
   it and one after the popf that clears it; int n clears TF for its handler (the frame keeps
   it) and is not stepped itself; no #DB right after mov ss (the next instruction gets it).
   Ring 0 code runs translated; ring 3 code runs directly where the VMM can (single steps
   through the host CPU's TF), so both engines are counted. DR7.GD makes mov from a debug
   register a #DB fault with DR6.BD. */
#include <stdint.h>

#include "cmdline.h"
#include "desc.h"
#include "exit.h"
#include "idt.h"
#include "kprintf.h"
#include "multiboot.h"
#include "pic.h"
#include "serial.h"
#include "steps.h"
#include "syscall.h"
#include "tap.h"
#include "user.h"

#define EFLAGS_TF 0x100u
#define DR6_BD (1u << 13)
#define DR6_BS (1u << 14)
#define DR7_GD (1u << 13)
#define MAX_STEPS 32

static uint32_t step_eip[MAX_STEPS], step_cs[MAX_STEPS], step_dr6[MAX_STEPS];
static unsigned steps;
static uint32_t int_handler_eflags, int_frame_eflags, int_calls;
static uint32_t gd_eip, gd_dr6, gd_dr7, gd_count;
static uint8_t user_stack[0x2000] __attribute__((aligned(16)));

static inline uint32_t read_dr6(void) {
  uint32_t v;
  __asm__ volatile("movl %%dr6, %0" : "=r"(v));
  return v;
}
static inline void write_dr6(uint32_t v) {
  __asm__ volatile("movl %0, %%dr6" : : "r"(v));
}
static inline uint32_t read_dr7(void) {
  uint32_t v;
  __asm__ volatile("movl %%dr7, %0" : "=r"(v));
  return v;
}
static inline void write_dr7(uint32_t v) {
  __asm__ volatile("movl %0, %%dr7" : : "r"(v));
}

static void on_debug(struct trap_frame* f) {
  uint32_t dr6 = read_dr6();
  write_dr6(0); /* the CPU never clears DR6 */
  if (dr6 & DR6_BD) {
    gd_count++;
    gd_eip = f->eip;
    gd_dr6 = dr6;
    gd_dr7 = read_dr7();
    f->eip += 3; /* skip the mov from dr0 (0f 21 c0) */
    return;
  }
  if (steps < MAX_STEPS) {
    step_eip[steps] = f->eip;
    step_cs[steps] = f->cs & 0xffff;
    step_dr6[steps] = dr6;
  }
  steps++;
}

static void on_int_probe(struct trap_frame* f) {
  int_calls++;
  int_handler_eflags = read_eflags();
  int_frame_eflags = f->eflags;
}

static uint32_t on_sys_exit(struct trap_frame* f) {
  user_return(f->ebx);
}

static void reset_steps(void) {
  steps = 0;
  for (unsigned i = 0; i < MAX_STEPS; i++) step_eip[i] = step_cs[i] = step_dr6[i] = 0;
}

/* Every recorded step had DR6.BS and ran in `cs`. */
static int all_bs(uint16_t cs) {
  for (unsigned i = 0; i < steps && i < MAX_STEPS; i++)
    if (!(step_dr6[i] & DR6_BS) || step_cs[i] != cs) return 0;
  return steps > 0;
}

/* QEMU's TCG (7.2) takes no single-step trap after an sti (the Pentium III does: only mov ss
   and pop ss hold debug traps back) and does not implement DR7.GD: booted with the command line
   "debug.qemu", those two checks are reported as TAP skips (and only then). */
static int qemu_gaps;

static void show(const char* what) {
  kprintf("# %s: %u steps:", what, steps);
  for (unsigned i = 0; i < steps && i < MAX_STEPS; i++)
    kprintf(" %04x:%08x/%x", step_cs[i], step_eip[i], step_dr6[i] & 0xf00f);
  kprintf("\n");
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  qemu_gaps = cmdline_has_word(mbi, "debug.qemu");
  serial_init();
  desc_init();
  idt_init();
  pic_init();
  syscall_init();
  syscall_register(SYS_EXIT, on_sys_exit);
  trap_register(VEC_DB, on_debug);
  idt_set_gate(INT_PROBE, GATE_TRAP, 0);
  trap_register(INT_PROBE, on_int_probe);
  tap_plan(13);

  reset_steps();
  steps_kernel();
  show("ring 0");
  if (qemu_gaps)
    tap_ok(1, "ring 0: 9 single steps between the popf that sets TF and the one that clears it"
              " # SKIP QEMU TCG does not step the instruction after sti");
  else
    tap_ok(steps == 9 && step_eip[0] == (uint32_t)step_k_first &&
               step_eip[8] == (uint32_t)step_k_end,
           "ring 0: 9 single steps between the popf that sets TF and the one that clears it");
  tap_ok(all_bs(SEL_KERNEL_CODE), "ring 0: every #DB has DR6.BS");

  reset_steps();
  steps_iret();
  show("iret");
  tap_ok(steps == 4 && step_eip[0] == (uint32_t)step_iret_second,
         "iret setting TF: the first step is after the instruction it returns to");

  reset_steps();
  steps_int();
  show("int n");
  tap_ok(steps == 4 && step_eip[0] == (uint32_t)step_int_after_nop && int_calls == 1,
         "int n under TF: neither the int nor its handler is stepped; the nop after it is");
  tap_ok(!(int_handler_eflags & EFLAGS_TF) && (int_frame_eflags & EFLAGS_TF),
         "int n: the handler runs with TF clear (%08x), its frame keeps TF (%08x)",
         int_handler_eflags, int_frame_eflags);

  reset_steps();
  steps_movss();
  show("mov ss");
  int after_mov = 0;
  for (unsigned i = 0; i < steps && i < MAX_STEPS; i++)
    after_mov |= step_eip[i] == (uint32_t)step_ss_after_mov;
  tap_ok(steps == 5 && !after_mov && step_eip[1] == (uint32_t)step_ss_after_nop,
         "mov ss holds the #DB back to after the next instruction");

  reset_steps();
  void* top = user_stack + sizeof user_stack;
  user_run(user_steps, top, EFLAGS_IF | EFLAGS_TF);
  show("ring 3");
  tap_ok(steps == 2 + 2 * USER_LOOPS && step_eip[0] == (uint32_t)user_steps_start + 5 &&
             step_eip[steps - 1] == (uint32_t)user_steps_int + 5,
         "ring 3 entered with TF by iret: %u single steps (want %u), int $0x80 not stepped",
         steps, 2 + 2 * USER_LOOPS);
  tap_ok(all_bs(SEL_USER_CODE), "ring 3: every #DB has DR6.BS and the user CS");

  reset_steps();
  user_run(user_popf_steps, top, EFLAGS_IF);
  show("ring 3 popf");
  tap_ok(steps == 5 && step_eip[0] == (uint32_t)user_popf_first &&
             step_eip[4] == (uint32_t)user_popf_end,
         "ring 3 popf sets and clears TF: 5 steps");
  tap_ok(all_bs(SEL_USER_CODE), "ring 3 popf: every #DB has DR6.BS");
  tap_ok(!(read_eflags() & EFLAGS_TF), "TF is clear again in ring 0");

  write_dr7(DR7_GD);
  uint32_t v = read_dr0_probe();
  (void)v;
  if (qemu_gaps)
    tap_ok(1, "DR7.GD: mov from DR0 is a #DB fault # SKIP QEMU TCG does not raise it");
  else
    tap_ok(gd_count == 1 && gd_eip == (uint32_t)probe_gd && (gd_dr6 & DR6_BD),
           "DR7.GD: mov from DR0 is a #DB fault at the mov with DR6.BD (dr6 %08x)", gd_dr6);
  tap_ok(!(gd_dr7 & DR7_GD) && (read_dr7() & 0x400), "DR7.GD is clear in the handler (%08x)",
         gd_dr7);
  tap_done();
}
