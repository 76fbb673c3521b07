/* Demand paging: touching unmapped pages faults, the handler maps a fresh page and returns, and
   the access is retried. The handler does no invlpg: a not-present entry is never cached, so a
   new mapping is seen at once (the first fault also creates the page table). */
#include <stdint.h>

#include "desc.h"
#include "kprintf.h"
#include "paging_guest.h"
#include "tap.h"

enum { DEMAND_PAGES = 8 };

/* What a page "loaded" on demand holds: each word a function of its own address. */
static uint32_t pattern(uint32_t linear) {
  return linear ^ 0x5a5aa5a5u;
}

static uint32_t demand_faults;

static int map_on_demand(uint32_t cr2, uint32_t error) {
  uint32_t flags = PTE_RW;
  if (cr2 - USER_DEMAND_BASE < DEMAND_PAGES * PAGE_SIZE)
    flags |= PTE_US;
  else if (cr2 - DEMAND_BASE >= DEMAND_PAGES * PAGE_SIZE)
    return 0;
  if (error & PF_P) return 0; /* only not-present faults are ours */
  uint32_t page = cr2 & PTE_ADDR;
  uint32_t* fresh = page_alloc();
  for (uint32_t i = 0; i < PAGE_SIZE / 4; i++) fresh[i] = pattern(page + 4 * i);
  map_page(kernel_pd, page, (uint32_t)fresh, flags);
  demand_faults++;
  return 1;
}

/* Page i is touched at an offset of its own, so CR2 must hold the exact address. */
static uint32_t touch_address(uint32_t base, int i) {
  return base + (uint32_t)i * PAGE_SIZE + 0x120 + 4 * (uint32_t)i;
}

static uint32_t written(int i) {
  return 0xd00d0000u + (uint32_t)i;
}

void check_demand_paging(void) {
  int reads_ok = 1, writes_ok = 1;
  for (int i = 0; i < DEMAND_PAGES; i++) {
    uint32_t a = touch_address(DEMAND_BASE, i);
    pf_arm(map_on_demand);
    if (i % 2 == 0) {
      uint32_t v = kread(a);
      if (!pf_expect(a, 0, kread_insn, SEL_KERNEL_CODE) || v != pattern(a)) {
        kprintf("# read of page %d: 0x%08x\n", i, v);
        reads_ok = 0;
      }
    } else {
      kwrite(a, written(i));
      if (!pf_expect(a, PF_W, kwrite_insn, SEL_KERNEL_CODE)) writes_ok = 0;
    }
  }
  tap_ok(reads_ok,
         "demand paging: %d ring-0 reads of unmapped pages fault once each (cr2 exact, error 0, "
         "EIP the load); the handler maps a fresh page and the retried read gets its data",
         DEMAND_PAGES / 2);
  tap_ok(writes_ok,
         "demand paging: %d ring-0 writes fault once each (cr2 exact, error 2, EIP the store) and "
         "are retried",
         DEMAND_PAGES / 2);

  /* Everything is mapped now: a second pass faults no more and sees the data kept. */
  pf_arm(0);
  int kept = 1;
  for (int i = 0; i < DEMAND_PAGES; i++) {
    uint32_t a = touch_address(DEMAND_BASE, i);
    uint32_t want = i % 2 == 0 ? pattern(a) : written(i);
    if (kread(a) != want || kread(a + 4) != pattern(a + 4)) kept = 0;
  }
  tap_ok(kept && pf_count() == 0 && demand_faults == DEMAND_PAGES,
         "second pass over the %d pages: no fault, written and loaded data kept (%u faults in "
         "all)",
         DEMAND_PAGES, demand_faults);

  /* From ring 3: the same faults with U/S = 1. */
  uint32_t ra = touch_address(USER_DEMAND_BASE, 0), wa = touch_address(USER_DEMAND_BASE, 1);
  pf_arm(map_on_demand);
  uint32_t v = user_read(ra);
  int read_ok = pf_expect(ra, PF_U, user_read_insn, SEL_USER_CODE) && v == pattern(ra);
  pf_arm(map_on_demand);
  user_write(wa, 0x05e70001);
  int write_ok = pf_expect(wa, PF_U | PF_W, user_write_insn, SEL_USER_CODE);
  pf_arm(0);
  tap_ok(read_ok && write_ok && kread(wa) == 0x05e70001,
         "demand paging from ring 3: a read faults with error 4 and a write with error 6 (cr2 "
         "exact, CS:EIP the user instruction), both retried");
}
