/* Protection faults (P = 1 in the error code): writes to read-only pages from ring 0 with
   CR0.WP = 1 and from ring 3, ring-3 access to supervisor pages (IF = 1 and 0), and the same rights
   taken from the PDE when the PTE allows more. The handler grants the right and the access is
   retried. */
#include <stdint.h>

#include "desc.h"
#include "paging_guest.h"
#include "tap.h"

#define RO_PAGE (RIGHTS_BASE)
#define USER_RO_PAGE (RIGHTS_BASE + 0x1000)
#define SUPER_PAGE (RIGHTS_BASE + 0x2000)

void check_error_codes(void) {
  map_page(kernel_pd, RO_PAGE, marked_page(0x0000aaaa), 0);
  map_page(kernel_pd, USER_RO_PAGE, marked_page(0x0000bbbb), PTE_US);
  map_page(kernel_pd, SUPER_PAGE, marked_page(0x0000cccc), PTE_RW);

  /* Ring 0, read-only page, WP = 1. */
  volatile pte_t* ro = pte_get(kernel_pd, RO_PAGE);
  pf_arm(0);
  uint32_t v = kread(RO_PAGE + 8);
  pf_arm_entry(ro, *ro | PTE_RW);
  kwrite(RO_PAGE + 8, 0x11110001);
  tap_ok(v == 0x0000aaaa && pf_expect(RO_PAGE + 8, PF_P | PF_W, kwrite_insn, SEL_KERNEL_CODE) &&
             kread(RO_PAGE + 8) == 0x11110001,
         "ring 0 reads a read-only page; its write faults with WP=1: cr2 0x%08x, error 3; made "
         "writable, the write is retried",
         RO_PAGE + 8);

  /* The same write with WP = 0: supervisor writes ignore R/W. */
  *ro &= ~PTE_RW;
  invlpg(RO_PAGE);
  write_cr0(read_cr0() & ~CR0_WP);
  pf_arm(0);
  kwrite(RO_PAGE + 12, 0x11110002);
  uint32_t faults = pf_count();
  write_cr0(read_cr0() | CR0_WP);
  tap_ok(faults == 0 && kread(RO_PAGE + 12) == 0x11110002,
         "with CR0.WP=0 ring 0 writes the read-only page without a fault");

  /* Ring 3, user read-only page. */
  volatile pte_t* user_ro = pte_get(kernel_pd, USER_RO_PAGE);
  pf_arm(0);
  v = user_read(USER_RO_PAGE + 16);
  pf_arm_entry(user_ro, *user_ro | PTE_RW);
  user_write(USER_RO_PAGE + 16, 0x22220001);
  tap_ok(v == 0x0000bbbb &&
             pf_expect(USER_RO_PAGE + 16, PF_P | PF_W | PF_U, user_write_insn, SEL_USER_CODE) &&
             kread(USER_RO_PAGE + 16) == 0x22220001,
         "ring 3 reads a read-only user page; its write faults: cr2 0x%08x, error 7, CS:EIP the "
         "store; retried once writable",
         USER_RO_PAGE + 16);

  /* Ring 3, supervisor page: a read, then (supervisor again) a write. */
  volatile pte_t* super = pte_get(kernel_pd, SUPER_PAGE);
  pte_t super_saved = *super;
  pf_arm_entry(super, super_saved | PTE_US);
  /* Ring 0 uses the page just before: what it could reach must not stay reachable in ring 3. */
  (void)kread(SUPER_PAGE + 20);
  v = user_read(SUPER_PAGE + 20);
  tap_ok(pf_expect(SUPER_PAGE + 20, PF_P | PF_U, user_read_insn, SEL_USER_CODE) && v == 0x0000cccc,
         "ring 3 read of a supervisor page faults: cr2 0x%08x, error 5; retried once user "
         "accessible",
         SUPER_PAGE + 20);
  /* The same from ring 3 with IF = 0, which bt86 translates even where it runs ring 3
     directly: in its own window, where the page must be hidden first (with direct execution
     bt86 does that only when ring 3 runs there, not at every entry to ring 3). */
  *super = super_saved;
  invlpg(SUPER_PAGE);
  pf_arm_entry(super, super_saved | PTE_US);
  (void)kread(SUPER_PAGE + 20);
  v = user_read_if0(SUPER_PAGE + 20);
  tap_ok(pf_expect(SUPER_PAGE + 20, PF_P | PF_U, user_read_insn, SEL_USER_CODE) && v == 0x0000cccc,
         "ring 3 read of a supervisor page with IF = 0 faults: cr2 0x%08x, error 5",
         SUPER_PAGE + 20);
  *super = super_saved;
  invlpg(SUPER_PAGE);
  pf_arm_entry(super, super_saved | PTE_US);
  kwrite(SUPER_PAGE + 28, 0x33330002);
  user_write(SUPER_PAGE + 24, 0x33330001);
  tap_ok(pf_expect(SUPER_PAGE + 24, PF_P | PF_W | PF_U, user_write_insn, SEL_USER_CODE) &&
             kread(SUPER_PAGE + 24) == 0x33330001,
         "ring 3 write to a supervisor page faults: cr2 0x%08x, error 7; retried", SUPER_PAGE + 24);

  /* Rights are the intersection of PDE and PTE: a writable PTE under a read-only PDE. */
  map_page(kernel_pd, PDE_RO_BASE, marked_page(0x0000dddd), PTE_RW | PTE_US);
  volatile pte_t* pde_ro = pde_get(kernel_pd, PDE_RO_BASE);
  *pde_ro &= ~PTE_RW;
  invlpg(PDE_RO_BASE);
  pf_arm_entry(pde_ro, *pde_ro | PTE_RW);
  kwrite(PDE_RO_BASE + 28, 0x44440001);
  tap_ok(pf_expect(PDE_RO_BASE + 28, PF_P | PF_W, kwrite_insn, SEL_KERNEL_CODE) &&
             kread(PDE_RO_BASE + 28) == 0x44440001,
         "ring 0 write under a read-only PDE (writable PTE) faults: cr2 0x%08x, error 3",
         PDE_RO_BASE + 28);

  /* A user PTE under a supervisor PDE. */
  map_page(kernel_pd, PDE_SUPER_BASE, marked_page(0x0000eeee), PTE_RW | PTE_US);
  volatile pte_t* pde_super = pde_get(kernel_pd, PDE_SUPER_BASE);
  *pde_super &= ~PTE_US;
  invlpg(PDE_SUPER_BASE);
  pf_arm_entry(pde_super, *pde_super | PTE_US);
  v = user_read(PDE_SUPER_BASE + 32);
  tap_ok(
      pf_expect(PDE_SUPER_BASE + 32, PF_P | PF_U, user_read_insn, SEL_USER_CODE) && v == 0x0000eeee,
      "ring 3 read under a supervisor PDE (user PTE) faults: cr2 0x%08x, error 5",
      PDE_SUPER_BASE + 32);
  pf_arm(0);
}
