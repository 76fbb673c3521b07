/* CPUID must answer the same in ring 3 as in ring 0: a VMM that lets user code execute cpuid
   natively would leak the host's CPU into the guest's model. With `cpuid.model=NAME` on the
   command line (bt86 --cpu NAME) it also checks what that real part answers: vendor, family/
   model/stepping, the highest leaves, the feature bits bt86 advertises for it, leaf 2's cache
   descriptors and the brand string (or their absence). Without it (QEMU, whose models are other
   steppings) those checks are TAP skips. */
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
};

/* The parts bt86 models (Intel AP-485 for the signatures and leaf 2), with the features bt86
   advertises: FPU DE PSE TSC MSR MCE CX8 and, on the P6 parts, MTRR PGE MCA CMOV MMX FXSR
   (+SSE); never VME, PAE, APIC, SEP, PAT, PSE36. */
struct model {
  const char* name;
  uint32_t signature, max_basic, edx;
  uint32_t leaf2[4];
  const char* brand; /* 0: no extended leaves */
};
static const struct model models[] = {
    {"pentium3", 0x6b1, 2, 0x0380f1bd, {0x03020101, 0, 0, 0x0c040883},
     "Intel(R) Pentium(R) III CPU family      1400MHz"},
    {"pentium2", 0x652, 2, 0x0180f1bd, {0x03020101, 0, 0, 0x0c040843}, 0},
    {"pentium", 0x52c, 1, 0x000001bd, {0, 0, 0, 0}, 0},
};
enum { N_MODEL_CHECKS = 6 };

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

static int str_eq(const char* a, const char* b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

/* The model named by `cpuid.model=NAME` in the command line, or 0. */
static const struct model* wanted_model(const struct multiboot_info* mbi) {
  static const char key[] = "cpuid.model=";
  if (!(mbi->flags & MULTIBOOT_INFO_CMDLINE)) return 0;
  const char* p = (const char*)mbi->cmdline;
  for (; *p; p++) {
    int i = 0;
    while (key[i] && p[i] == key[i]) i++;
    if (key[i]) continue;
    char name[16];
    int n = 0;
    for (p += i; *p && *p != ' ' && n < 15; p++) name[n++] = *p;
    name[n] = 0;
    for (unsigned m = 0; m < sizeof models / sizeof models[0]; m++)
      if (str_eq(models[m].name, name)) return &models[m];
    kprintf("Bail out! unknown cpuid.model=%s\n", name);
    tap_done();
  }
  return 0;
}

static int vendor_is(const char* want);

static void check_model(const struct model* m) {
  struct regs r0 = cpuid(0), r1 = cpuid(1), r2 = cpuid(2), e0 = cpuid(EXTENDED_BASE);
  tap_ok(vendor_is("GenuineIntel") && r0.eax == m->max_basic,
         "%s: GenuineIntel, highest basic leaf %u (%u)", m->name, m->max_basic, r0.eax);
  tap_ok(r1.eax == m->signature, "%s: leaf 1 signature 0x%03x: family %u model %u stepping %u",
         m->name, m->signature, (r1.eax >> 8) & 0xf, (r1.eax >> 4) & 0xf, r1.eax & 0xf);
  tap_ok(r1.edx == m->edx && r1.ecx == 0 && r1.ebx == 0,
         "%s: features edx 0x%08x (want 0x%08x), ecx 0x%08x, ebx 0x%08x", m->name, r1.edx, m->edx,
         r1.ecx, r1.ebx);
  if (m->max_basic >= 2)
    tap_ok(r2.eax == m->leaf2[0] && r2.ebx == m->leaf2[1] && r2.ecx == m->leaf2[2] &&
               r2.edx == m->leaf2[3],
           "%s: leaf 2 cache descriptors %08x %08x %08x %08x", m->name, r2.eax, r2.ebx, r2.ecx,
           r2.edx);
  else /* beyond the highest basic leaf, Intel parts answer with the highest one */
    tap_ok(r2.eax == r1.eax && r2.edx == r1.edx, "%s: leaf 2 answers as leaf 1 (eax 0x%08x)",
           m->name, r2.eax);
  if (m->brand) {
    char brand[49];
    for (int i = 0; i < 3; i++) {
      struct regs b = cpuid(EXTENDED_BASE + 2 + i);
      __builtin_memcpy(brand + 16 * i, &b, 16);
    }
    brand[48] = 0;
    tap_ok(e0.eax == EXTENDED_BASE + 4, "%s: extended leaves up to 0x%08x", m->name, e0.eax);
    tap_ok(str_eq(brand, m->brand), "%s: brand string \"%s\"", m->name, brand);
  } else {
    struct regs top = cpuid(m->max_basic);
    tap_ok(e0.eax == top.eax && e0.edx == top.edx,
           "%s: no extended leaves: 0x80000000 answers as leaf %u (eax 0x%08x)", m->name,
           m->max_basic, e0.eax);
    tap_ok(e0.eax < EXTENDED_BASE + 2, "%s: no brand string", m->name);
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

  const struct model* model = wanted_model(mbi);
  tap_plan((int)n_leaves + 2 + N_MODEL_CHECKS);
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
  if (model) {
    check_model(model);
  } else {
    for (int i = 0; i < N_MODEL_CHECKS; i++)
      tap_ok(1, "model check %d # SKIP no cpuid.model= on the command line", i + 1);
  }
  tap_done();
}
