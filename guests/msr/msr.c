/* MSRs as the part documents them (Intel SDM Vol. 4, "MSRs in the P6 Family Processors" and
   "MSRs in Pentium Processors"): every MSR of the CPU it finds (family 5 or 6, and the MTRR,
   MCA and SEP features CPUID advertises) must read, keep what is written to its R/W bits and
   refuse writes to read-only registers and reserved bits with #GP(0); MSRs the part lacks are
   #GP(0) for rdmsr and wrmsr. Also rdpmc (counters 0/1, CR4.PCE from ring 3) and the rules
   that tie MSRs to CPUID (APIC_BASE enable = CPUID.APIC, BIOS_SIGN_ID loaded by CPUID).
   With "qemu" on the command line, the checks where QEMU's TCG is known to differ from the
   part are skipped with the reason (docs/MSRS.md lists them). */
#include <stdint.h>

#include "idt.h"
#include "kprintf.h"
#include "multiboot.h"
#include "protected_init.h"
#include "syscall.h"
#include "tap.h"
#include "user.h"

enum { F_MCE = 1u << 7, F_APIC = 1u << 9, F_SEP = 1u << 11, F_MTRR = 1u << 12, F_MCA = 1u << 14 };
enum { CR4_PCE = 1u << 8 };

/* ---- faulting accesses: the #GP handler skips the 2-byte instruction ---- */
static volatile uint32_t faults, fault_error;

static void on_gp(struct trap_frame* f) {
  if (trap_from_user(f)) user_return(0xdead0000u | f->error);
  faults++;
  fault_error = f->error;
  f->eip += 2; /* rdmsr, wrmsr and rdpmc are 0f 3x */
}

/* Returns 1 if the instruction raised #GP(0), 0 if it ran; -1 for any other fault. */
static int gp_result(uint32_t before) {
  if (faults == before) return 0;
  return fault_error == 0 ? 1 : -1;
}

static int rdmsr_gp(uint32_t index, uint64_t* value) {
  uint32_t before = faults, lo = 0, hi = 0;
  __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(index), "a"(0), "d"(0));
  *value = (uint64_t)hi << 32 | lo;
  return gp_result(before);
}

static int wrmsr_gp(uint32_t index, uint64_t value) {
  uint32_t before = faults;
  __asm__ volatile("wrmsr" ::"c"(index), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                   : "memory");
  return gp_result(before);
}

static uint64_t rd(uint32_t index) {
  uint64_t v;
  rdmsr_gp(index, &v);
  return v;
}

static void cpuid(uint32_t leaf, uint32_t* a, uint32_t* d) {
  uint32_t b, c;
  __asm__ volatile("cpuid" : "=a"(*a), "=b"(b), "=c"(c), "=d"(*d) : "a"(leaf), "c"(0));
}

/* ---- what the part documents ---- */
enum read_rule { R_ANY, R_VALUE, R_GP };
enum write_rule {
  W_RW,       /* wval reads back as wback; the old value is restored */
  W_GP,       /* read-only: writing back what was read is #GP */
  W_RESERVED, /* wval sets a reserved bit: #GP, and the value stays */
  W_ZERO,     /* only 0 may be written: 0 is fine, wval is #GP */
  W_NONE,     /* write-only or special (checked separately): nothing here */
};

struct msr_def {
  uint32_t index;
  const char* name;
  uint32_t needs; /* CPUID.1:EDX bits that must be advertised for it to exist */
  enum read_rule r;
  uint64_t value, mask; /* R_VALUE: (read & mask) == value */
  enum write_rule w;
  uint64_t wval, wback;
  const char* qemu_differs; /* why this MSR's checks are skipped under QEMU, or 0 */
};

#define ALL 0xffffffffffffffffull
static const char kQemuUnknown[] = "QEMU TCG reads 0 and ignores writes for MSRs it does not model";

static const struct msr_def p6_msrs[] = {
    {0x0, "P5_MC_ADDR", F_MCE, R_ANY, 0, 0, W_GP, 0, 0, 0},
    {0x1, "P5_MC_TYPE", F_MCE, R_ANY, 0, 0, W_GP, 0, 0, 0},
    {0x17, "PLATFORM_ID", 0, R_VALUE, 0, 0x0003ffffffffffffull, W_GP, 0, 0, 0},
    {0x1b, "APIC_BASE", 0, R_VALUE, 0xfee00000, 0xfffff000, W_RESERVED, 0xfee00001, 0, 0},
    {0x2a, "EBL_CR_POWERON", 0, R_ANY, 0, 0, W_RESERVED, 1ull << 40, 0, 0},
    {0x33, "TEST_CTL", 0, R_ANY, 0, 0, W_RESERVED, 1, 0, 0},
    {0x79, "BIOS_UPDT_TRIG", 0, R_GP, 0, 0, W_NONE, 0, 0, 0},
    {0x88, "BBL_CR_D0", 0, R_ANY, 0, 0, W_RW, 0x123456789abcdef0ull, 0x123456789abcdef0ull,
     kQemuUnknown},
    {0x89, "BBL_CR_D1", 0, R_ANY, 0, 0, W_RW, 0xfedcba9876543210ull, 0xfedcba9876543210ull,
     kQemuUnknown},
    {0x8a, "BBL_CR_D2", 0, R_ANY, 0, 0, W_RW, 0x0f0f0f0ff0f0f0f0ull, 0x0f0f0f0ff0f0f0f0ull,
     kQemuUnknown},
    {0x8b, "BIOS_SIGN_ID", 0, R_ANY, 0, 0, W_NONE, 0, 0, 0},
    {0xc1, "PERFCTR0", 0, R_ANY, 0, 0, W_RW, 0x0000001280000001ull, 0xff80000001ull, kQemuUnknown},
    {0xc2, "PERFCTR1", 0, R_ANY, 0, 0, W_RW, 0x000000017fffffffull, 0x7fffffffull, kQemuUnknown},
    {0xfe, "MTRRcap", F_MTRR, R_VALUE, 0x508, ALL, W_GP, 0, 0, 0},
    {0x116, "BBL_CR_ADDR", 0, R_ANY, 0, 0, W_RESERVED, 1, 0, 0},
    {0x118, "BBL_CR_DECC", 0, R_ANY, 0, 0, W_RW, 0x5a, 0x5a, kQemuUnknown},
    {0x119, "BBL_CR_CTL", 0, R_ANY, 0, 0, W_RESERVED, 1ull << 22, 0, 0},
    {0x11a, "BBL_CR_TRIG", 0, R_ANY, 0, 0, W_ZERO, 1, 0, 0},
    {0x11b, "BBL_CR_BUSY", 0, R_VALUE, 0, 1, W_GP, 0, 0, 0},
    {0x11e, "BBL_CR_CTL3", 0, R_VALUE, 0x101, 0x101, W_RESERVED, 1ull << 24, 0, kQemuUnknown},
    {0x174, "SYSENTER_CS", F_SEP, R_ANY, 0, 0, W_RW, 0x10, 0x10, 0},
    {0x175, "SYSENTER_ESP", F_SEP, R_ANY, 0, 0, W_RW, 0xc0001000, 0xc0001000, 0},
    {0x176, "SYSENTER_EIP", F_SEP, R_ANY, 0, 0, W_RW, 0xc0100000, 0xc0100000, 0},
    {0x179, "MCG_CAP", F_MCA, R_VALUE, 0x105, ALL, W_GP, 0, 0, "QEMU has 10 banks and MCG_SER_P"},
    {0x17a, "MCG_STATUS", F_MCA, R_VALUE, 0, ALL, W_RESERVED, 1ull << 3, 0, 0},
    {0x17b, "MCG_CTL", F_MCA, R_ANY, 0, 0, W_RW, ALL, ALL, 0},
    {0x186, "EVNTSEL0", 0, R_ANY, 0, 0, W_RW, 0x0000c0, 0x0000c0, kQemuUnknown},
    {0x187, "EVNTSEL1", 0, R_ANY, 0, 0, W_RESERVED, 1ull << 32, 0, 0},
    {0x1d9, "DEBUGCTLMSR", 0, R_ANY, 0, 0, W_RESERVED, 1ull << 7, 0, 0},
    {0x1db, "LASTBRANCHFROMIP", 0, R_ANY, 0, 0, W_GP, 0, 0, 0},
    {0x1dc, "LASTBRANCHTOIP", 0, R_ANY, 0, 0, W_GP, 0, 0, 0},
    {0x1dd, "LASTINTFROMIP", 0, R_ANY, 0, 0, W_GP, 0, 0, 0},
    {0x1de, "LASTINTTOIP", 0, R_ANY, 0, 0, W_GP, 0, 0, 0},
    {0x1e0, "ROB_CR_BKUPTMPDR6", 0, R_VALUE, 4, 4, W_RW, 0, 0, kQemuUnknown},
    {0x200, "MTRRphysBase0", F_MTRR, R_ANY, 0, 0, W_RESERVED, 0x2, 0, 0},
    {0x201, "MTRRphysMask0", F_MTRR, R_ANY, 0, 0, W_RW, 0xff8000800ull, 0xff8000800ull, 0},
    {0x20e, "MTRRphysBase7", F_MTRR, R_ANY, 0, 0, W_RW, 0x12345006ull, 0x12345006ull, 0},
    {0x20f, "MTRRphysMask7", F_MTRR, R_ANY, 0, 0, W_RESERVED, 0x1, 0, 0},
    {0x250, "MTRRfix64K_00000", F_MTRR, R_ANY, 0, 0, W_RW, 0x0606060606060606ull,
     0x0606060606060606ull, 0},
    {0x258, "MTRRfix16K_80000", F_MTRR, R_ANY, 0, 0, W_RESERVED, 0x0306060606060606ull, 0, 0},
    {0x259, "MTRRfix16K_A0000", F_MTRR, R_ANY, 0, 0, W_RW, 0x0101010100000000ull,
     0x0101010100000000ull, 0},
    {0x26f, "MTRRfix4K_F8000", F_MTRR, R_ANY, 0, 0, W_RW, 0x0505050505050505ull,
     0x0505050505050505ull, 0},
    {0x2ff, "MTRRdefType", F_MTRR, R_ANY, 0, 0, W_RESERVED, 0x1000, 0, 0},
    {0x400, "MC0_CTL", F_MCA, R_ANY, 0, 0, W_RW, ALL, ALL, 0},
    {0x401, "MC0_STATUS", F_MCA, R_VALUE, 0, ALL, W_ZERO, 1, 0, 0},
    {0x402, "MC0_ADDR", F_MCA, R_VALUE, 0, ALL, W_ZERO, 1, 0, 0},
    {0x40d, "MC4_STATUS", F_MCA, R_VALUE, 0, ALL, W_ZERO, 1, 0, 0},
    {0x410, "MC3_CTL", F_MCA, R_ANY, 0, 0, W_RW, 0x1f, 0x1f,
     "QEMU keeps only all-zeros or all-ones in MCi_CTL"},
};

static const struct msr_def p5_msrs[] = {
    {0x0, "P5_MC_ADDR", F_MCE, R_ANY, 0, 0, W_GP, 0, 0, 0},
    {0x1, "P5_MC_TYPE", F_MCE, R_ANY, 0, 0, W_GP, 0, 0, 0},
    {0x11, "CESR", 0, R_ANY, 0, 0, W_RW, 0x003f003full, 0x003f003full, kQemuUnknown},
    {0x12, "CTR0", 0, R_ANY, 0, 0, W_RW, 0xff12345678ull, 0xff12345678ull, kQemuUnknown},
    {0x13, "CTR1", 0, R_ANY, 0, 0, W_RESERVED, 1ull << 40, 0, 0},
};

/* Indices the part does not have: #GP(0) for rdmsr and wrmsr. */
struct absent {
  uint32_t index;
  uint32_t unless; /* present if these features are advertised (then not checked) */
  const char* name;
};
static const struct absent absent_msrs[] = {
    {0x2, 0, "TR1 (Pentium test register)"},
    {0x6, 0, "MONITOR_FILTER_SIZE"},
    {0x3a, 0, "FEATURE_CONTROL"},
    {0x1a0, 0, "MISC_ENABLE"},
    {0x277, 0, "PAT"},
    {0x403, 0, "MC0_MISC (not implemented on a P6)"},
    {0x174, F_SEP, "SYSENTER_CS without SEP"},
    {0x179, F_MCA, "MCG_CAP without MCA"},
    {0xfe, F_MTRR, "MTRRcap without MTRR"},
    {0xc0000080, 0, "EFER"},
    {0x40000000, 0, "hypervisor range"},
};

static int qemu;

static int skip_for_qemu(const char* why, const char* what) {
  if (!qemu || !why) return 0;
  tap_ok(1, "%s # SKIP %s", what, why);
  return 1;
}

static const char kQemuNoGp[] = "QEMU TCG never raises #GP for rdmsr/wrmsr";

static void check_read(const struct msr_def* m) {
  if (m->r == R_GP && skip_for_qemu(kQemuNoGp, m->name)) return;
  if (m->r == R_VALUE && skip_for_qemu(m->qemu_differs, m->name)) return;
  uint64_t v;
  int gp = rdmsr_gp(m->index, &v);
  switch (m->r) {
    case R_GP:
      tap_ok(gp == 1, "%s (0x%x): rdmsr is #GP(0) (write-only)", m->name, m->index);
      return;
    case R_VALUE:
      tap_ok(gp == 0 && (v & m->mask) == m->value, "%s (0x%x): reads 0x%llx (masked 0x%llx)",
             m->name, m->index, v, m->mask);
      return;
    default:
      tap_ok(gp == 0, "%s (0x%x): rdmsr works (0x%llx)", m->name, m->index, v);
  }
}

static void check_write(const struct msr_def* m) {
  if (m->w != W_RW && m->w != W_NONE && skip_for_qemu(kQemuNoGp, m->name)) return;
  if (m->w == W_RW && skip_for_qemu(m->qemu_differs, m->name)) return;
  uint64_t old = rd(m->index), now;
  int gp;
  switch (m->w) {
    case W_RW:
      gp = wrmsr_gp(m->index, m->wval);
      now = rd(m->index);
      tap_ok(gp == 0 && now == m->wback, "%s: wrmsr 0x%llx reads back 0x%llx (got 0x%llx)", m->name,
             m->wval, m->wback, now);
      wrmsr_gp(m->index, old);
      return;
    case W_GP:
      gp = wrmsr_gp(m->index, old);
      tap_ok(gp == 1 && rd(m->index) == old, "%s: read-only, wrmsr is #GP(0)", m->name);
      return;
    case W_RESERVED:
      gp = wrmsr_gp(m->index, old | m->wval);
      tap_ok(gp == 1 && rd(m->index) == old, "%s: wrmsr with reserved bits 0x%llx is #GP(0)",
             m->name, m->wval);
      return;
    case W_ZERO: {
      int gp0 = wrmsr_gp(m->index, 0);
      gp = wrmsr_gp(m->index, m->wval);
      tap_ok(gp0 == 0 && gp == 1, "%s: wrmsr 0 works, 0x%llx is #GP(0)", m->name, m->wval);
      return;
    }
    default:
      tap_ok(1, "%s: write checked separately", m->name);
  }
}

static void check_msrs(const struct msr_def* defs, int n, uint32_t edx) {
  for (int i = 0; i < n; i++) {
    const struct msr_def* m = &defs[i];
    if ((m->needs & edx) != m->needs) {
      uint64_t v;
      if (skip_for_qemu(kQemuNoGp, m->name)) {
        tap_ok(1, "%s: no write check (absent)", m->name);
        continue;
      }
      tap_ok(rdmsr_gp(m->index, &v) == 1, "%s (0x%x): absent without its CPUID feature: #GP(0)",
             m->name, m->index);
      tap_ok(1, "%s: no write check (absent)", m->name);
      continue;
    }
    check_read(m);
    check_write(m);
  }
}

static void check_absent(uint32_t edx) {
  for (unsigned i = 0; i < sizeof absent_msrs / sizeof absent_msrs[0]; i++) {
    const struct absent* a = &absent_msrs[i];
    if (a->unless && (a->unless & edx)) {
      tap_ok(1, "0x%x %s # SKIP the feature is advertised", a->index, a->name);
    } else if (qemu) {
      tap_ok(1, "0x%x %s # SKIP %s", a->index, a->name, kQemuNoGp);
    } else {
      uint64_t v;
      int r = rdmsr_gp(a->index, &v), w = wrmsr_gp(a->index, 0);
      tap_ok(r == 1 && w == 1, "0x%x %s: rdmsr and wrmsr are #GP(0)", a->index, a->name);
    }
  }
}

/* ---- the rules that tie MSRs to each other and to CPUID ---- */
static void check_tsc(void) {
  int gp = wrmsr_gp(0x10, 0x00000005f0000000ull);
  uint64_t t = rd(0x10);
  if (skip_for_qemu("QEMU writes all 64 bits of the TSC", "TSC")) return;
  tap_ok(gp == 0 && t >= 0xf0000000ull && t < (1ull << 36),
         "TSC: wrmsr writes bits 31:0 and clears 63:32 (read 0x%llx)", t);
}

static void check_bios_sign(void) {
  uint32_t a, d;
  if (skip_for_qemu("QEMU's BIOS_SIGN_ID does not hold writes", "BIOS_SIGN_ID")) return;
  wrmsr_gp(0x8b, 0);
  cpuid(1, &a, &d);
  uint64_t sig = rd(0x8b);
  int gp = wrmsr_gp(0x8b, 0x1234567800000000ull);
  uint64_t back = rd(0x8b);
  cpuid(1, &a, &d);
  tap_ok(gp == 0 && back == 0x1234567800000000ull && rd(0x8b) == sig && (uint32_t)sig == 0,
         "BIOS_SIGN_ID: holds a write until CPUID loads the update revision (0x%x)",
         (uint32_t)(sig >> 32));
}

static void check_apic(uint32_t edx) {
  uint64_t base = rd(0x1b);
  int enabled = (base >> 11) & 1;
  tap_ok(enabled == !!(edx & F_APIC), "APIC_BASE global enable (%d) agrees with CPUID.APIC (%d)",
         enabled, !!(edx & F_APIC));
  if (!enabled) {
    wrmsr_gp(0x1b, base | (1u << 11));
    tap_ok(!((rd(0x1b) >> 11) & 1), "APIC disabled until reset: setting the enable bit fails");
  } else {
    tap_ok(1, "APIC enable bit # SKIP the APIC is enabled");
  }
}

static uint32_t user_rdpmc_ecx;
static void user_rdpmc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdpmc" : "=a"(lo), "=d"(hi) : "c"(user_rdpmc_ecx));
  sys_exit(lo);
}

static uint8_t user_stack[4096] __attribute__((aligned(16)));

static uint32_t read_cr4(void) {
  uint32_t v;
  __asm__ volatile("mov %%cr4, %0" : "=r"(v));
  return v;
}
static void write_cr4(uint32_t v) {
  __asm__ volatile("mov %0, %%cr4" ::"r"(v));
}

static void check_rdpmc(void) {
  if (qemu) {
    for (int i = 0; i < 3; i++) tap_ok(1, "rdpmc # SKIP QEMU TCG raises #UD for rdpmc");
    return;
  }
  wrmsr_gp(0xc1, 0x80000007);
  uint32_t before = faults, lo, hi;
  __asm__ volatile("rdpmc" : "=a"(lo), "=d"(hi) : "c"(0));
  tap_ok(faults == before && lo == 0x80000007 && hi == 0xff,
         "rdpmc 0 in ring 0 reads PERFCTR0 (40 bits: %02x%08x)", hi, lo);
  before = faults;
  __asm__ volatile("rdpmc" : "=a"(lo), "=d"(hi) : "c"(2));
  tap_ok(faults == before + 1 && fault_error == 0, "rdpmc 2 is #GP(0) (a P6 has 2 counters)");
  write_cr4(read_cr4() & ~CR4_PCE);
  user_rdpmc_ecx = 0;
  uint32_t r0 = user_run(user_rdpmc, user_stack + sizeof user_stack, 0);
  write_cr4(read_cr4() | CR4_PCE);
  uint32_t r1 = user_run(user_rdpmc, user_stack + sizeof user_stack, 0);
  write_cr4(read_cr4() & ~CR4_PCE);
  tap_ok(r0 == 0xdead0000u && r1 == 0x80000007,
         "rdpmc in ring 3: #GP(0) with CR4.PCE clear (0x%x), PERFCTR0 with it set (0x%x)", r0, r1);
}

static int has_word(const char* s, const char* w) {
  for (; s && *s; s++) {
    int i = 0;
    while (w[i] && s[i] == w[i]) i++;
    if (!w[i] && (s[i] == 0 || s[i] == ' ')) return 1;
  }
  return 0;
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  protected_init();
  syscall_init();
  trap_register(13, on_gp);
  qemu = (mbi->flags & MULTIBOOT_INFO_CMDLINE) && has_word((const char*)mbi->cmdline, "qemu");

  uint32_t sig, edx;
  cpuid(1, &sig, &edx);
  const int p5 = ((sig >> 8) & 0xf) == 5;
  const struct msr_def* defs = p5 ? p5_msrs : p6_msrs;
  const int n =
      p5 ? (int)(sizeof p5_msrs / sizeof p5_msrs[0]) : (int)(sizeof p6_msrs / sizeof p6_msrs[0]);
  const int n_absent = (int)(sizeof absent_msrs / sizeof absent_msrs[0]);
  kprintf("# signature 0x%x, edx 0x%08x: %s MSRs%s\n", sig, edx, p5 ? "Pentium" : "P6",
          qemu ? " (skipping where QEMU differs)" : "");
  tap_plan(2 * n + n_absent + 1 + (p5 ? 0 : 1 + 2 + 3));
  check_msrs(defs, n, edx);
  check_absent(edx);
  check_tsc();
  if (!p5) {
    check_bios_sign();
    check_apic(edx);
    check_rdpmc();
  }
  tap_done();
}
