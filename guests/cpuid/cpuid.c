/* CPUID must answer the same in ring 3 as in ring 0: a VMM that lets user code execute cpuid
   natively would leak the host's CPU into the guest's model. Also prints the model and, for
   bt86's own vendor, checks that SEP (sysenter) is hidden, as bt86 cannot run it. */
#include <stdint.h>

#include "desc.h"
#include "idt.h"
#include "kprintf.h"
#include "multiboot.h"
#include "pic.h"
#include "serial.h"
#include "syscall.h"
#include "tap.h"
#include "user.h"
#include "protected_init.h"

enum {
  MAX_BASIC = 0x20, /* leaves compared per range at most */
  MAX_EXTENDED = 0x20,
  MAX_LEAVES = MAX_BASIC + MAX_EXTENDED,
  EXTENDED_BASE = 0x80000000u,
  USER_STACK_SIZE = 0x4000,
  SEP_BIT = 11,
};

struct regs {
  uint32_t eax, ebx, ecx, edx;
};

/* Filled by the kernel before user_run; user code reads `leaves` and writes `user_regs`. */
static uint32_t leaves[MAX_LEAVES];
static uint32_t n_leaves;
static struct regs kernel_regs[MAX_LEAVES], user_regs[MAX_LEAVES];
static uint8_t user_stack[USER_STACK_SIZE] __attribute__((aligned(16)));

/* Subleaf 0 for the leaves that have subleaves, so both rings ask the same question. */
static inline struct regs cpuid(uint32_t leaf) {
  struct regs r;
  __asm__ volatile("cpuid"
                   : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                   : "a"(leaf), "c"(0));
  return r;
}

static void user_cpuid(void) {
  for (uint32_t i = 0; i < n_leaves; i++) user_regs[i] = cpuid(leaves[i]);
  sys_exit(n_leaves);
}

static void add_range(uint32_t first, uint32_t max, uint32_t cap) {
  for (uint32_t leaf = first; leaf <= max && leaf - first < cap; leaf++) leaves[n_leaves++] = leaf;
}

static void print_model(void) {
  struct regs r0 = cpuid(0), r1 = cpuid(1);
  char vendor[13];
  __builtin_memcpy(vendor, &r0.ebx, 4);
  __builtin_memcpy(vendor + 4, &r0.edx, 4);
  __builtin_memcpy(vendor + 8, &r0.ecx, 4);
  vendor[12] = 0;
  uint32_t family = (r1.eax >> 8) & 0xf, model = (r1.eax >> 4) & 0xf;
  if (family == 0xf) family += (r1.eax >> 20) & 0xff;
  if (family == 0x6 || family >= 0xf) model |= ((r1.eax >> 16) & 0xf) << 4;
  kprintf("# vendor \"%s\", max basic leaf 0x%x\n", vendor, r0.eax);
  kprintf("# family %u model %u stepping %u (leaf 1 eax 0x%08x)\n", family, model, r1.eax & 0xf,
          r1.eax);
  kprintf("# leaf 1: ebx 0x%08x ecx 0x%08x edx 0x%08x\n", r1.ebx, r1.ecx, r1.edx);
  static const char* const edx_names[32] = {
      "fpu",  "vme",  "de",   "pse", "tsc",  "msr", "pae",   "mce", "cx8",   "apic", 0,
      "sep",  "mtrr", "pge",  "mca", "cmov", "pat", "pse36", "psn", "clfsh", 0,      "ds",
      "acpi", "mmx",  "fxsr", "sse", "sse2", "ss",  "htt",   "tm",  "ia64",  "pbe"};
  kprintf("# features:");
  for (int bit = 0; bit < 32; bit++)
    if ((r1.edx >> bit & 1) && edx_names[bit]) kprintf(" %s", edx_names[bit]);
  kprintf("\n");
  struct regs e0 = cpuid(EXTENDED_BASE);
  if (e0.eax >= EXTENDED_BASE + 4) {
    char brand[49];
    for (int i = 0; i < 3; i++) {
      struct regs b = cpuid(EXTENDED_BASE + 2 + i);
      __builtin_memcpy(brand + 16 * i, &b, 16);
    }
    brand[48] = 0;
    kprintf("# brand \"%s\"\n", brand);
  }
}

static int vendor_is(const char* want) {
  struct regs r = cpuid(0);
  char v[12];
  __builtin_memcpy(v, &r.ebx, 4);
  __builtin_memcpy(v + 4, &r.edx, 4);
  __builtin_memcpy(v + 8, &r.ecx, 4);
  for (int i = 0; i < 12; i++)
    if (v[i] != want[i]) return 0;
  return 1;
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  (void)mbi;
  protected_init();
  syscall_init();

  print_model();
  uint32_t max_basic = cpuid(0).eax;
  add_range(0, max_basic, MAX_BASIC);
  uint32_t max_ext = cpuid(EXTENDED_BASE).eax;
  /* Below 0x80000000 the extended range does not exist (Intel then repeats a basic leaf):
     still compare 0x80000000 itself. */
  add_range(EXTENDED_BASE, max_ext >= EXTENDED_BASE ? max_ext : EXTENDED_BASE, MAX_EXTENDED);
  for (uint32_t i = 0; i < n_leaves; i++) kernel_regs[i] = cpuid(leaves[i]);

  tap_plan((int)n_leaves + 3);
  uint32_t ran = user_run(user_cpuid, user_stack + sizeof user_stack, EFLAGS_IF);
  tap_ok(ran == n_leaves, "ring 3 ran cpuid for %u of %u leaves", ran, n_leaves);
  for (uint32_t i = 0; i < n_leaves; i++) {
    const struct regs* k = &kernel_regs[i];
    const struct regs* u = &user_regs[i];
    int same = k->eax == u->eax && k->ebx == u->ebx && k->ecx == u->ecx && k->edx == u->edx;
    tap_ok(same, "leaf 0x%08x: ring 3 = ring 0 (%08x %08x %08x %08x)", leaves[i], k->eax, k->ebx,
           k->ecx, k->edx);
    if (!same) kprintf("#   ring 3 got %08x %08x %08x %08x\n", u->eax, u->ebx, u->ecx, u->edx);
  }
  struct regs r1 = cpuid(1);
  tap_ok(((r1.eax >> 8) & 0xf) != 0, "leaf 1 reports a family (eax 0x%08x)", r1.eax);
  if (vendor_is("bt86bt86bt86"))
    tap_ok(!(r1.edx >> SEP_BIT & 1), "bt86 hides SEP (leaf 1 edx 0x%08x)", r1.edx);
  else
    tap_ok(1, "bt86 hides SEP # SKIP vendor is not bt86bt86bt86 (SEP=%u)", r1.edx >> SEP_BIT & 1);
  tap_done();
}
