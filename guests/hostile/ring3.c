/* Hostile ring-3 code that once stopped bt86 under direct execution (issue 12, item 5): bound
   out of range, a far jump to a selector the host accepts, mov ss with one, EFLAGS.AC with an
   unaligned access. Each must give the guest what a Pentium III gives (vector and error code;
   the VMM may report a silently accepted selector's fault a few instructions late, so the
   handler resumes at a label after each probe rather than checking EIP for those). */
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
  const char* at;     /* the instruction, when the fault must report it; else 0 */
  const char* resume; /* where the handler continues */
  int seen;
  uint32_t got_vector, got_error, got_eip;
};

static struct expect expects[] = {
    {"bound out of range: #BR at the instruction", 5, 0, probe_bound, resume_bound, 0, 0, 0, 0},
    {"far jmp to 0x23 (guest data, host code): #GP(0x20)", 13, 0x20, 0, resume_far23, 0, 0, 0, 0},
    {"mov ss with 0x2b (guest TSS, host data): #GP(0x28)", 13, 0x28, 0, resume_ss2b, 0, 0, 0, 0},
};
enum { N = sizeof expects / sizeof expects[0] };
static unsigned next;
static uint8_t user_stack[0x4000] __attribute__((aligned(16)));

static void on_exception(struct trap_frame* f) {
  if (next >= N) {
    kprintf("Bail out! unexpected vector %u error 0x%x at %04x:%08x\n", f->vector, f->error,
            f->cs & 0xffff, f->eip);
    guest_exit(2);
  }
  struct expect* e = &expects[next++];
  e->seen = 1;
  e->got_vector = f->vector;
  e->got_error = f->error;
  e->got_eip = f->eip;
  f->eip = (uint32_t)e->resume;
  f->cs = SEL_USER_CODE;
  f->user_ss = SEL_USER_DATA;
}

static uint32_t on_sys_exit(struct trap_frame* f) {
  user_return(f->ebx);
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  (void)mbi;
  serial_init();
  desc_init();
  idt_init();
  pic_init(); /* off the exception vectors (a BIOS leaves IRQ 0 at vector 8), all masked */
  syscall_init();
  syscall_register(SYS_EXIT, on_sys_exit);
  for (int v = 0; v < 32; v++) trap_register(v, on_exception);
  tap_plan(N + 1);
  user_run(ring3_probes, user_stack + sizeof user_stack, EFLAGS_IF);
  for (unsigned i = 0; i < N; i++) {
    const struct expect* e = &expects[i];
    int ok = e->seen && e->got_vector == e->vector && e->got_error == e->error &&
             (!e->at || e->got_eip == (uint32_t)e->at);
    tap_ok(ok, "%s", e->name);
    if (!ok)
      kprintf("#   %s vector %u error 0x%x at %08x\n", e->seen ? "got" : "never delivered",
              e->got_vector, e->got_error, e->got_eip);
  }
  tap_ok(ac_loaded == 0x55443322, "EFLAGS.AC with CR0.AM clear: the unaligned load read %08x",
         ac_loaded);
  tap_done();
}
