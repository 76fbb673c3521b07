/* Self-modifying code: the kernel runs code, writes new instructions over it and runs it
   again; a store patches the instruction right after it; a loop patches the instruction it
   runs next in the same page; snippets are copied over a function (byte, dword and rep movsb
   stores) and into fresh pages. All of it first with paging off, then with paging on, where
   code is also written through one mapping of its frame and run through another, a linear
   page is pointed at other code (invlpg, CR3 switch), and code is demand paged in on an
   instruction fetch fault. */
#include <stdint.h>

#include "desc.h"
#include "exit.h"
#include "idt.h"
#include "kprintf.h"
#include "multiboot.h"
#include "paging.h"
#include "protected_init.h"
#include "tap.h"
#include "watchdog.h"

enum {
  CHECKS = 15,
  PATCHES = 100,
  LOOP_N = 1000,
  EXIT_UNEXPECTED_PF = 2,
  WATCHDOG_SECONDS = 30,
};

#define EXEC_PAGE 0x70000000u   /* code run here ... */
#define ALIAS_PAGE 0x70400000u  /* ... is written through here */
#define DEMAND_PAGE 0x70800000u /* mapped by the #PF handler when first fetched */

typedef uint32_t (*fn2)(uint32_t, uint32_t);

/* snippets.S */
uint32_t smc_imm(void);
uint32_t smc_next(uint32_t value);
uint32_t smc_loop(uint32_t n);
uint32_t smc_slot(uint32_t a, uint32_t b);
extern uint8_t smc_imm_value[], smc_loop_value[], smc_slot_end[];
extern const uint8_t snip_add[], snip_add_end[], snip_mul[], snip_mul_end[], snip_sub[],
    snip_sub_end[], snip_tri[], snip_tri_end[];

struct snippet {
  const uint8_t *start, *end;
};
#define SNIPPET(name) ((struct snippet){snip_##name, snip_##name##_end})

/* What each snippet returns for (a, b). */
static uint32_t tri(uint32_t a, uint32_t b) {
  return a * (a + 1) / 2 ^ b;
}

enum store { BYTES, DWORDS, REP_MOVSB };

/* Copies a snippet with the given kind of store: a translator may watch each differently. */
static void copy_code(void* dst, struct snippet s, enum store how) {
  uint32_t n = (uint32_t)(s.end - s.start);
  if (how == REP_MOVSB) {
    const void* src = s.start;
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
  } else if (how == DWORDS) {
    /* Rounded up: the bytes after a snippet are harmless in the destination. */
    for (uint32_t i = 0; i < (n + 3) / 4; i++)
      ((volatile uint32_t*)dst)[i] = ((const uint32_t*)s.start)[i];
  } else {
    for (uint32_t i = 0; i < n; i++) ((volatile uint8_t*)dst)[i] = s.start[i];
  }
}

static void write_u32(uint8_t* code, uint32_t value) {
  *(volatile uint32_t*)code = value;
}

/* The in-place checks, run with paging off and on. */
static void check_patching(const char* when) {
  write_u32(smc_imm_value, 0x11111111);
  uint32_t first = smc_imm();
  int stale = 0;
  for (uint32_t i = 1; i <= PATCHES; i++) {
    uint32_t v = i * 0x9e3779b9u;
    write_u32(smc_imm_value, v);
    if (smc_imm() != v) stale++;
  }
  tap_ok(first == 0x11111111 && stale == 0,
         "%s: a function's immediate rewritten after each of %d calls is seen by the next call "
         "(%d stale)",
         when, PATCHES, stale);

  stale = 0;
  for (uint32_t i = 1; i <= PATCHES; i++) {
    uint32_t v = i * 0x01000193u + 1;
    if (smc_next(v) != v) stale++;
  }
  tap_ok(stale == 0,
         "%s: a store into the next instruction's immediate takes effect at once "
         "(%d of %d stale)",
         when, stale, PATCHES);

  write_u32(smc_loop_value, 0x7fffffff);
  uint32_t sum = smc_loop(LOOP_N);
  tap_ok(sum == LOOP_N * (LOOP_N - 1) / 2,
         "%s: a loop that patches the add it runs next sums to %u (want %u)", when, sum,
         LOOP_N * (LOOP_N - 1) / 2);

  uint32_t before = smc_slot(6, 7);
  copy_code(smc_slot, SNIPPET(mul), BYTES);
  uint32_t mul = smc_slot(6, 7);
  copy_code(smc_slot, SNIPPET(tri), DWORDS);
  uint32_t t = smc_slot(100, 0x55);
  tap_ok(before == 13 && mul == 42 && t == tri(100, 0x55),
         "%s: a function overwritten with another's code by byte stores, then by dword stores, "
         "runs the new code (before %u, then %u and %u)",
         when, before, mul, t);

  copy_code(smc_slot, SNIPPET(sub), REP_MOVSB);
  uint32_t sub = smc_slot(6, 7);
  copy_code(smc_slot, SNIPPET(add), REP_MOVSB);
  uint32_t add = smc_slot(6, 7);
  tap_ok(sub == 0xffffffffu && add == 13,
         "%s: overwritten by rep movsb, twice, it runs each new code (%d, then %u)", when, (int)sub,
         add);
}

static uint8_t fresh[2][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static void check_fresh_pages(void) {
  copy_code(fresh[0], SNIPPET(tri), BYTES);
  uint32_t a = ((fn2)fresh[0])(10, 0);
  copy_code(fresh[0], SNIPPET(mul), BYTES);
  uint32_t b = ((fn2)fresh[0])(6, 7);
  copy_code(fresh[1], SNIPPET(sub), DWORDS);
  uint32_t c = ((fn2)fresh[1])(6, 7);
  uint32_t d = ((fn2)fresh[0])(5, 5);
  tap_ok(a == 55 && b == 42 && c == 0xffffffffu && d == 25,
         "paging off: code copied to a fresh page runs, overwritten it runs the new code, a second "
         "page runs its own (%u %u %d %u)",
         a, b, (int)c, d);
}

/* --- paging on ---------------------------------------------------------------------------- */

static volatile pte_t* pd;
static volatile uint32_t pf_count, pf_cr2, pf_error, pf_eip;

/* Demand-paged code: the first fetch from DEMAND_PAGE faults, the handler fills a frame with
   code and maps it (no invlpg: a not-present entry is never cached), the fetch is retried. */
static void on_page_fault(struct trap_frame* f) {
  uint32_t cr2 = read_cr2();
  pf_count++;
  pf_cr2 = cr2;
  pf_error = f->error;
  pf_eip = f->eip;
  if ((cr2 & PTE_ADDR) != DEMAND_PAGE || (f->error & PF_P) || pf_count > 1) {
    kprintf("Bail out! unexpected #PF: cr2 0x%08x error %u at %08x\n", cr2, f->error, f->eip);
    guest_exit(EXIT_UNEXPECTED_PF);
  }
  uint8_t* frame = page_alloc();
  copy_code(frame, SNIPPET(tri), BYTES);
  map_page(pd, DEMAND_PAGE, (uint32_t)frame, 0);
}

static void check_mapped_code(void) {
  /* One frame, two mappings: written through one (and through the identity map), run through
     the other. */
  uint8_t* frame = page_alloc();
  map_page(pd, EXEC_PAGE, (uint32_t)frame, PTE_RW);
  map_page(pd, ALIAS_PAGE, (uint32_t)frame, PTE_RW);
  fn2 exec = (fn2)EXEC_PAGE;
  copy_code((void*)ALIAS_PAGE, SNIPPET(tri), BYTES);
  uint32_t a = exec(100, 0x55);
  copy_code((void*)ALIAS_PAGE, SNIPPET(mul), DWORDS);
  uint32_t b = exec(6, 7);
  copy_code(frame, SNIPPET(sub), REP_MOVSB);
  uint32_t c = exec(6, 7);
  tap_ok(a == tri(100, 0x55) && b == 42 && c == 0xffffffffu,
         "paging on: code run at 0x%08x, rewritten through 0x%08x (twice) and through the "
         "identity map of its frame, runs the new code each time",
         EXEC_PAGE, ALIAS_PAGE);

  /* The same linear address, another frame. */
  uint8_t* other = page_alloc();
  copy_code(other, SNIPPET(add), BYTES);
  *pte_get(pd, EXEC_PAGE) = (uint32_t)other | PTE_P | PTE_RW;
  invlpg(EXEC_PAGE);
  uint32_t d = exec(6, 7);
  tap_ok(d == 13,
         "paging on: its PTE pointed at a frame with other code plus invlpg: the other "
         "code runs (%u)",
         d);

  uint8_t* third = page_alloc();
  copy_code(third, SNIPPET(tri), BYTES);
  volatile pte_t* pd_b = pd_create();
  *pde_get(pd_b, 0) = *pde_get(pd, 0);
  map_page(pd_b, EXEC_PAGE, (uint32_t)third, PTE_RW);
  write_cr3((uint32_t)pd_b);
  uint32_t e = exec(10, 1);
  write_cr3((uint32_t)pd);
  uint32_t g = exec(6, 7);
  tap_ok(e == tri(10, 1) && g == 13,
         "paging on: CR3 switched to a directory with other code at 0x%08x and back: each "
         "directory's code runs (%u, then %u)",
         EXEC_PAGE, e, g);

  pf_count = 0;
  uint32_t h = ((fn2)DEMAND_PAGE)(10, 0);
  tap_ok(
      pf_count == 1 && pf_cr2 == DEMAND_PAGE && pf_eip == DEMAND_PAGE && pf_error == 0 && h == 55,
      "paging on: a call into an unmapped page faults on the fetch (cr2 = EIP = 0x%08x, "
      "error %u); mapped with code by the handler, it runs (%u)",
      pf_cr2, pf_error, h);
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  (void)mbi;
  protected_init();
  trap_register(VEC_PF, on_page_fault);
  /* Code that misses a patch may run into garbage instead of returning. */
  watchdog_start(WATCHDOG_SECONDS);
  tap_plan(CHECKS);
  check_patching("paging off");
  check_fresh_pages();

  /* The kernel image, text included, identity mapped writable: the code is patched in place. */
  pd = pd_create();
  map_range(pd, PAGE_SIZE, PAGE_SIZE, LARGE_PAGE_SIZE - PAGE_SIZE, PTE_RW);
  paging_enable(pd, 0);
  check_patching("paging on");
  check_mapped_code();
  tap_done();
}
