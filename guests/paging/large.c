/* 4 MiB pages (CR4.PSE): a PDE with PS maps physical memory directly; A and D live in that PDE;
   remapping it plus invlpg of any address inside takes effect at once, also for a global one;
   read-only and supervisor rights fault as for 4 KiB pages. Uses physical 0 .. 8 MiB. */
#include <stdint.h>

#include "desc.h"
#include "paging_guest.h"
#include "tap.h"

#define LARGE_LOW (LARGE_BASE)                          /* physical 0, then 4 MiB */
#define LARGE_HIGH (LARGE_BASE + LARGE_PAGE_SIZE)       /* physical 4 MiB */
#define LARGE_RIGHTS (LARGE_BASE + 2 * LARGE_PAGE_SIZE) /* physical 0, read-only, supervisor */
#define LARGE_GLOBAL (LARGE_BASE + 3 * LARGE_PAGE_SIZE) /* physical 0, then 4 MiB; global */
#define SECOND_FRAME LARGE_PAGE_SIZE
#define PROBE_OFFSET 0x123450u /* inside the second 4 MiB frame, outside the kernel image */

static volatile uint32_t marker = 0x1a46e000;
static volatile uint32_t target;

void check_large_pages(void) {
  pf_arm(0);
  map_large(kernel_pd, LARGE_LOW, 0, PTE_RW);
  uint32_t m = kread(LARGE_LOW + (uint32_t)&marker);
  kwrite(LARGE_LOW + (uint32_t)&target, 0x1a46e001);
  tap_ok(m == 0x1a46e000 && target == 0x1a46e001,
         "a 4 MiB page at 0x%08x reads and writes physical memory at the same offset", LARGE_LOW);

  map_large(kernel_pd, LARGE_HIGH, SECOND_FRAME, PTE_RW);
  volatile pte_t* pde = pde_get(kernel_pd, LARGE_HIGH);
  kread(LARGE_HIGH + PROBE_OFFSET);
  pte_t after_read = *pde;
  kwrite(LARGE_HIGH + PROBE_OFFSET, 0x1a46e002);
  pte_t after_write = *pde;
  tap_ok(
      (after_read & (PTE_A | PTE_D)) == PTE_A && (after_write & (PTE_A | PTE_D)) == (PTE_A | PTE_D),
      "the 4 MiB PDE gets A on a read (0x%03x) and D on a write (0x%03x)", after_read & 0xfff,
      after_write & 0xfff);

  volatile pte_t* low = pde_get(kernel_pd, LARGE_LOW);
  *low = SECOND_FRAME | PDE_PS | PTE_P | PTE_RW;
  invlpg(LARGE_LOW + PROBE_OFFSET);
  uint32_t v = kread(LARGE_LOW + PROBE_OFFSET);
  tap_ok(v == 0x1a46e002, "a 4 MiB PDE pointed at another frame plus invlpg: reads 0x%08x from it",
         v);

  map_large(kernel_pd, LARGE_RIGHTS, 0, 0);
  volatile pte_t* rights = pde_get(kernel_pd, LARGE_RIGHTS);
  uint32_t a = LARGE_RIGHTS + (uint32_t)&target;
  pf_arm_entry(rights, *rights | PTE_RW);
  kwrite(a, 0x1a46e003);
  tap_ok(pf_expect(a, PF_P | PF_W, kwrite_insn, SEL_KERNEL_CODE) && target == 0x1a46e003,
         "ring 0 write to a read-only 4 MiB page faults: cr2 0x%08x, error 3", a);
  pf_arm_entry(rights, *rights | PTE_US);
  v = user_read(a);
  tap_ok(pf_expect(a, PF_P | PF_U, user_read_insn, SEL_USER_CODE) && v == 0x1a46e003,
         "ring 3 read of a supervisor 4 MiB page faults: cr2 0x%08x, error 5", a);
  pf_arm(0);

  map_large(kernel_pd, LARGE_GLOBAL, 0, PTE_RW | PTE_G);
  volatile pte_t* global = pde_get(kernel_pd, LARGE_GLOBAL);
  m = kread(LARGE_GLOBAL + (uint32_t)&marker);
  *global = SECOND_FRAME | PDE_PS | PTE_P | PTE_RW | PTE_G;
  invlpg(LARGE_GLOBAL);
  v = kread(LARGE_GLOBAL + PROBE_OFFSET);
  tap_ok(m == 0x1a46e000 && v == 0x1a46e002,
         "a global 4 MiB page remapped plus invlpg: 0x%08x, then 0x%08x from the new frame", m, v);
}
