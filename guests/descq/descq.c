/* lar, lsl, verr, verw and arpl in ring 0 and ring 3 over a table of descriptors in an LDT:
   code and data of each DPL, conforming code, execute-only code, read-only data, byte- and
   page-granular limits, a not-present segment and every system type; the null selector,
   selectors beyond the GDT and LDT limits, and RPL above DPL. Every answer (ZF and the value)
   is checked against the SDM's rules, written out per entry below. lar's bits 19:16 are
   undefined in the SDM (QEMU clears them), so they are not compared. With direct execution the
   pages holding these instructions must run translated: run directly they would query the
   host's descriptor tables (shadowmmu/direct_code.cpp). */
#include <stdint.h>

#include "desc.h"
#include "idt.h"
#include "kprintf.h"
#include "multiboot.h"
#include "protected_init.h"
#include "syscall.h"
#include "tap.h"
#include "user.h"

enum { LDT_GDT_INDEX = GDT_SPARE_FIRST, SEL_LDT = LDT_GDT_INDEX << 3, LAR_MASK = 0x00f0ff00 };

/* Access bytes. */
#define P DESC_PRESENT
#define CD DESC_CODE_DATA
#define DATA_RW (P | CD | DESC_RW)
#define DATA_RO (P | CD)
#define CODE_XR (P | CD | DESC_CODE | DESC_RW)
#define CODE_X (P | CD | DESC_CODE)
#define CONFORMING 0x04
#define FLAT_FLAGS (DESC_GRAN_4K | DESC_32BIT)

/* What each query answers, per ring: bit 0 lar, 1 lsl, 2 verr, 3 verw (a set bit: ZF = 1). */
enum { LAR = 1, LSL = 2, VERR = 4, VERW = 8, ALL = 15, NONE = 0 };

struct entry {
  const char* what;
  uint32_t base, limit;
  uint8_t access, flags;
  uint8_t ring0, ring3; /* LAR|LSL|VERR|VERW that succeed at CPL 0 (RPL 0) and CPL 3 (RPL 3) */
  uint32_t lsl;         /* the limit lsl must give */
};

static const struct entry table[] = {
    {"null LDT entry (never queried: index 0 is not null in an LDT)", 0, 0xfffff,
     DATA_RW | DESC_DPL(3), FLAT_FLAGS, ALL, ALL, 0xffffffff},
    {"data RW DPL 0", 0, 0xfffff, DATA_RW, FLAT_FLAGS, ALL, NONE, 0xffffffff},
    {"data RW DPL 3", 0, 0xfffff, DATA_RW | DESC_DPL(3), FLAT_FLAGS, ALL, ALL, 0xffffffff},
    {"data RO DPL 3", 0, 0xfffff, DATA_RO | DESC_DPL(3), FLAT_FLAGS, LAR | LSL | VERR,
     LAR | LSL | VERR, 0xffffffff},
    {"data RW DPL 2", 0, 0xfffff, DATA_RW | DESC_DPL(2), FLAT_FLAGS, ALL, NONE, 0xffffffff},
    {"code XR DPL 3", 0, 0xfffff, CODE_XR | DESC_DPL(3), FLAT_FLAGS, LAR | LSL | VERR,
     LAR | LSL | VERR, 0xffffffff},
    {"code X DPL 3", 0, 0xfffff, CODE_X | DESC_DPL(3), FLAT_FLAGS, LAR | LSL, LAR | LSL,
     0xffffffff},
    {"code XR DPL 0", 0, 0xfffff, CODE_XR, FLAT_FLAGS, LAR | LSL | VERR, NONE, 0xffffffff},
    {"conforming code XR DPL 0", 0, 0xfffff, CODE_XR | CONFORMING, FLAT_FLAGS, LAR | LSL | VERR,
     LAR | LSL | VERR, 0xffffffff},
    {"conforming code X DPL 0", 0, 0xfffff, CODE_X | CONFORMING, FLAT_FLAGS, LAR | LSL, LAR | LSL,
     0xffffffff},
    {"data, byte-granular limit 0x12345", 0x1000, 0x12345, DATA_RW | DESC_DPL(3), DESC_32BIT, ALL,
     ALL, 0x12345},
    {"data, 4 KiB-granular limit 0x12", 0x1000, 0x12, DATA_RW | DESC_DPL(3), FLAT_FLAGS, ALL, ALL,
     0x12fff},
    {"not-present data RW DPL 3", 0, 0xfffff, (DATA_RW & ~P) | DESC_DPL(3), FLAT_FLAGS, ALL, ALL,
     0xffffffff},
    {"system type 0 (reserved)", 0x2000, 0x67, P | DESC_DPL(3) | 0x0, 0, NONE, NONE, 0},
    {"16-bit TSS DPL 3", 0x2000, 0x2b, P | DESC_DPL(3) | 0x1, 0, LAR | LSL, LAR | LSL, 0x2b},
    {"LDT DPL 3", 0x2000, 0x3f, P | DESC_DPL(3) | 0x2, 0, LAR | LSL, LAR | LSL, 0x3f},
    {"busy 16-bit TSS DPL 3", 0x2000, 0x2b, P | DESC_DPL(3) | 0x3, 0, LAR | LSL, LAR | LSL, 0x2b},
    {"16-bit call gate DPL 3", 0x2000, 0x67, P | DESC_DPL(3) | 0x4, 0, LAR, LAR, 0},
    {"task gate DPL 3", 0x2000, 0x67, P | DESC_DPL(3) | 0x5, 0, LAR, LAR, 0},
    {"16-bit interrupt gate DPL 3", 0x2000, 0x67, P | DESC_DPL(3) | 0x6, 0, NONE, NONE, 0},
    {"16-bit trap gate DPL 3", 0x2000, 0x67, P | DESC_DPL(3) | 0x7, 0, NONE, NONE, 0},
    {"system type 8 (reserved)", 0x2000, 0x67, P | DESC_DPL(3) | 0x8, 0, NONE, NONE, 0},
    {"32-bit TSS DPL 3", 0x2000, 0x67, P | DESC_DPL(3) | 0x9, 0, LAR | LSL, LAR | LSL, 0x67},
    {"system type 0xa (reserved)", 0x2000, 0x67, P | DESC_DPL(3) | 0xa, 0, NONE, NONE, 0},
    {"busy 32-bit TSS DPL 0, page-granular", 0x2000, 0x1, P | 0xb, DESC_GRAN_4K, LAR | LSL, NONE,
     0x1fff},
    {"32-bit call gate DPL 3", 0x2000, 0x67, P | DESC_DPL(3) | 0xc, 0, LAR, LAR, 0},
    {"system type 0xd (reserved)", 0x2000, 0x67, P | DESC_DPL(3) | 0xd, 0, NONE, NONE, 0},
    {"32-bit interrupt gate DPL 3", 0x2000, 0x67, P | DESC_DPL(3) | 0xe, 0, NONE, NONE, 0},
    {"32-bit trap gate DPL 3", 0x2000, 0x67, P | DESC_DPL(3) | 0xf, 0, NONE, NONE, 0},
};
enum { N = sizeof table / sizeof table[0], FIRST = 1 };

static uint64_t ldt[N];

static uint64_t descriptor(const struct entry* e) {
  return (uint64_t)(e->limit & 0xffff) | (uint64_t)(e->base & 0xffffff) << 16 |
         (uint64_t)e->access << 40 | (uint64_t)((e->limit >> 16) & 0xf) << 48 |
         (uint64_t)(e->flags & 0xf) << 52 | (uint64_t)(e->base >> 24) << 56;
}

struct answer {
  uint8_t ok; /* LAR|LSL|VERR|VERW with ZF = 1 */
  uint32_t lar, lsl, lar16;
};

/* lar and verr with a register source, lsl and verw with a memory source (Linux's verw). A
   query that fails must leave its destination alone. */
static struct answer query(uint16_t sel) {
  struct answer a = {0, 0xdeadbeef, 0xdeadbeef, 0x5555aaaa};
  static volatile uint16_t mem_sel;
  mem_sel = sel;
  uint8_t z;
  __asm__ volatile("lar %w2, %0; setz %1" : "+r"(a.lar), "=q"(z) : "r"(sel) : "cc");
  a.ok |= z ? LAR : 0;
  __asm__ volatile("lsl %2, %0; setz %1" : "+r"(a.lsl), "=q"(z) : "m"(mem_sel) : "cc");
  a.ok |= z ? LSL : 0;
  __asm__ volatile("verr %w1; setz %0" : "=q"(z) : "r"(sel) : "cc");
  a.ok |= z ? VERR : 0;
  __asm__ volatile("verw %1; setz %0" : "=q"(z) : "m"(mem_sel) : "cc");
  a.ok |= z ? VERW : 0;
  __asm__ volatile("lar %w1, %w0" : "+r"(a.lar16) : "r"(sel) : "cc");
  return a;
}

/* arpl with a register and with a memory destination: the new selectors and ZF. */
struct arpl_answer {
  uint16_t reg, mem;
  uint8_t zf_reg, zf_mem;
};
static struct arpl_answer arpl(uint16_t dest, uint16_t src) {
  struct arpl_answer r = {dest, dest, 0, 0};
  static volatile uint16_t mem_dest;
  mem_dest = dest;
  __asm__ volatile("arpl %w2, %w0; setz %1" : "+r"(r.reg), "=q"(r.zf_reg) : "r"(src) : "cc");
  __asm__ volatile("arpl %w2, %0; setz %1" : "+m"(mem_dest), "=q"(r.zf_mem) : "r"(src) : "cc");
  r.mem = mem_dest;
  return r;
}

/* Extra selectors: null, beyond the limits, RPL above DPL. */
enum { N_EXTRA = 5 };
static const struct {
  const char* what;
  uint16_t sel;
  uint8_t ring0, ring3;
} extra[N_EXTRA] = {
    {"null selector 0", 0, NONE, NONE},
    {"null selector 3", 3, NONE, NONE},
    {"beyond the GDT limit", GDT_ENTRIES << 3, NONE, NONE},
    {"beyond the LDT limit", (N << 3) | 4 | 3, NONE, NONE},
    {"DPL 2 data with RPL 3 (from ring 0)", (4 << 3) | 4 | 3, NONE, NONE},
};

static struct answer answers[2][N + N_EXTRA];
static struct arpl_answer arpls[2][2];
static uint8_t user_stack[0x4000] __attribute__((aligned(16)));

static void run_all(int ring) {
  for (int i = FIRST; i < N; i++) answers[ring][i] = query((uint16_t)((i << 3) | 4 | ring * 3));
  for (int i = 0; i < N_EXTRA; i++) answers[ring][N + i] = query(extra[i].sel);
  arpls[ring][0] = arpl(0x1238, 0x0003);
  arpls[ring][1] = arpl(0x123a, 0x0001);
}

static void user_main(void) {
  run_all(1);
  sys_exit(0);
}

static int check(const char* what, int ring, const struct answer* a, uint8_t want, uint32_t lar,
                 uint32_t lsl) {
  int ok = a->ok == want;
  ok &= (want & LAR) ? (a->lar & LAR_MASK) == (lar & LAR_MASK) && (a->lar16 & 0xffff0000) ==
                                                                       0x55550000 &&
                           (a->lar16 & 0xffff) == (lar & 0xff00)
                     : a->lar == 0xdeadbeef && a->lar16 == 0x5555aaaa;
  ok &= (want & LSL) ? a->lsl == lsl : a->lsl == 0xdeadbeef;
  tap_ok(ok, "ring %d: %s: ZF lar %d lsl %d verr %d verw %d", ring * 3, what, !!(a->ok & LAR),
         !!(a->ok & LSL), !!(a->ok & VERR), !!(a->ok & VERW));
  if (!ok)
    kprintf("#   want ZF %x lar %08x lsl %08x; got ZF %x lar %08x lar16 %08x lsl %08x\n", want, lar,
            lsl, a->ok, a->lar, a->lar16, a->lsl);
  return ok;
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  (void)mbi;
  protected_init();
  syscall_init();
  for (int i = 0; i < N; i++) ldt[i] = descriptor(&table[i]);
  gdt_set(LDT_GDT_INDEX, (uint32_t)ldt, sizeof ldt - 1, P | 0x2, 0);
  __asm__ volatile("lldt %w0" : : "r"((uint16_t)SEL_LDT));

  run_all(0);
  uint32_t r = user_run(user_main, user_stack + sizeof user_stack, EFLAGS_IF);

  tap_plan(2 * (N - FIRST + N_EXTRA) + 5);
  tap_ok(r == 0, "ring 3 ran the queries");
  for (int ring = 0; ring < 2; ring++) {
    for (int i = FIRST; i < N; i++) {
      const struct entry* e = &table[i];
      uint32_t lar = (uint32_t)(descriptor(e) >> 32) & 0x00ffff00;
      check(e->what, ring, &answers[ring][i], ring ? e->ring3 : e->ring0, lar, e->lsl);
    }
    for (int i = 0; i < N_EXTRA; i++)
      check(extra[i].what, ring, &answers[ring][N + i], ring ? extra[i].ring3 : extra[i].ring0, 0,
            0);
    const struct arpl_answer* a = arpls[ring];
    tap_ok(a[0].reg == 0x123b && a[0].mem == 0x123b && a[0].zf_reg && a[0].zf_mem,
           "ring %d: arpl raises RPL 0 to 3 in a register and in memory, ZF = 1 (%04x %04x)",
           ring * 3, a[0].reg, a[0].mem);
    tap_ok(a[1].reg == 0x123a && a[1].mem == 0x123a && !a[1].zf_reg && !a[1].zf_mem,
           "ring %d: arpl leaves RPL 2 above RPL 1 alone, ZF = 0 (%04x %04x)", ring * 3, a[1].reg,
           a[1].mem);
  }
  tap_done();
}
