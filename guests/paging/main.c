/* 32-bit paging as a Pentium Pro/II kernel uses it: an identity map, a higher-half alias the
   kernel runs from, demand paging, every #PF error code (not present, read-only from ring 3 and
   from ring 0 with CR0.WP, supervisor pages from ring 3, rights taken from the PDE as well),
   the accessed and dirty bits, invlpg and CR3 loads honoured at once, global pages (CR4.PGE)
   and 4 MiB pages (CR4.PSE), and paging turned off again. Only what the architecture
   guarantees is checked: never that a stale TLB entry is (or is not) still used where the CPU
   may do either. */
#include <stdint.h>

#include "exit.h"
#include "kprintf.h"
#include "multiboot.h"
#include "paging_guest.h"
#include "protected_init.h"
#include "syscall.h"
#include "tap.h"
#include "watchdog.h"

enum { CHECKS = 39, EXIT_SETUP = 3, WATCHDOG_SECONDS = 30 };

extern const char __kernel_end[];

volatile pte_t* kernel_pd;

static void setup_paging(void) {
  if ((uint32_t)__kernel_end > IDENTITY_END) {
    kprintf("Bail out! the kernel image ends at 0x%08x, beyond the identity map\n",
            (uint32_t)__kernel_end);
    guest_exit(EXIT_SETUP);
  }
  kernel_pd = pd_create();
  /* Page 0 stays unmapped so that a null pointer faults. Supervisor only: ring 3 gets just
     user_access's two pages. */
  map_range(kernel_pd, PAGE_SIZE, PAGE_SIZE, IDENTITY_END - PAGE_SIZE, PTE_RW);
  open_user_pages(kernel_pd);
  paging_enable(kernel_pd, CR4_PSE | CR4_PGE);

  uint32_t cr0 = read_cr0(), cr3 = read_cr3(), cr4 = read_cr4();
  tap_ok((cr0 & (CR0_PG | CR0_WP)) == (CR0_PG | CR0_WP) && cr3 == (uint32_t)kernel_pd &&
             (cr4 & (CR4_PSE | CR4_PGE)) == (CR4_PSE | CR4_PGE),
         "paging on, running through the identity map: cr0 0x%08x cr3 0x%08x cr4 0x%08x", cr0, cr3,
         cr4);
}

/* Paging turned off (last: the rest runs at its identity addresses): linear is physical again,
   so an address above RAM that paging mapped to RAM no longer reaches that RAM (bt86 kept the
   shadow's mapping there once). What it does read is the machine's (all ones on a PC). */
static volatile uint32_t off_tag;
static void check_paging_off(void) {
  off_tag = 0x0ff7a600u;
  volatile uint32_t* high = (volatile uint32_t*)(KERNEL_HIGH + (uint32_t)&off_tag);
  uint32_t on = *high;
  write_cr0(read_cr0() & ~CR0_PG);
  uint32_t off = *high;
  tap_ok(on == 0x0ff7a600u && off != 0x0ff7a600u && off_tag == 0x0ff7a600u,
         "paging off: 0x%08x, RAM through the higher-half alias while on (0x%08x), reads "
         "0x%08x, not that RAM",
         (uint32_t)high, on, off);
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  (void)mbi;
  protected_init();
  syscall_init();
  pf_init();
  watchdog_start(WATCHDOG_SECONDS);
  tap_plan(CHECKS);
  setup_paging();
  check_higher_half();
  check_demand_paging();
  check_error_codes();
  check_accessed_dirty();
  check_tlb();
  check_large_pages();
  kprintf("# %u of %u pool pages used\n", page_pool_used(), (unsigned)PAGE_POOL_PAGES);
  check_paging_off();
  tap_done();
}
