/* Accessed and dirty bits as the CPU keeps them: a read sets A in the PTE and in the PDE but
   not D, a write sets D, an instruction fetch sets A only; after software clears them (and
   invlpg, without which the CPU may keep using a TLB entry that already had them) the next
   access sets them again. Before an access A may be set speculatively, so only what must hold
   after it is checked. */
#include <stdint.h>

#include "kprintf.h"
#include "paging_guest.h"
#include "tap.h"

#define AD_PAGE (AD_BASE)
#define AD_USER_PAGE (AD_BASE + 0x1000)
#define AD_CODE_PAGE (AD_BASE + 0x2000)

static int bits(pte_t e, pte_t mask, pte_t want) {
  return (e & mask) == want;
}

void check_accessed_dirty(void) {
  pf_arm(0);
  /* A fresh page table: its PDE and the PTE start with A = D = 0. */
  map_page(kernel_pd, AD_PAGE, marked_page(0x00ad00ad), PTE_RW);
  volatile pte_t* pde = pde_get(kernel_pd, AD_PAGE);
  volatile pte_t* pte = pte_get(kernel_pd, AD_PAGE);
  uint32_t v = kread(AD_PAGE);
  pte_t after_read = *pte, pde_after_read = *pde;
  kwrite(AD_PAGE + 4, 0x00ad0001);
  pte_t after_write = *pte;
  tap_ok(v == 0x00ad00ad && bits(after_read, PTE_A | PTE_D, PTE_A) && (pde_after_read & PTE_A) &&
             bits(after_write, PTE_A | PTE_D, PTE_A | PTE_D),
         "a read sets A (PTE 0x%03x, PDE 0x%03x) but not D; a write sets D (PTE 0x%03x)",
         after_read & 0xfff, pde_after_read & 0xfff, after_write & 0xfff);

  *pte &= ~(PTE_A | PTE_D);
  *pde &= ~PTE_A;
  invlpg(AD_PAGE);
  kread(AD_PAGE);
  after_read = *pte;
  pde_after_read = *pde;
  kwrite(AD_PAGE + 8, 0x00ad0002);
  after_write = *pte;
  tap_ok(bits(after_read, PTE_A | PTE_D, PTE_A) && (pde_after_read & PTE_A) &&
             bits(after_write, PTE_A | PTE_D, PTE_A | PTE_D),
         "cleared by software (and invlpg), A and D are set again by the next read (PTE 0x%03x, "
         "PDE 0x%03x) and write (PTE 0x%03x)",
         after_read & 0xfff, pde_after_read & 0xfff, after_write & 0xfff);

  map_page(kernel_pd, AD_USER_PAGE, marked_page(0x00ad00ae), PTE_RW | PTE_US);
  pte = pte_get(kernel_pd, AD_USER_PAGE);
  v = user_read(AD_USER_PAGE);
  after_read = *pte;
  user_write(AD_USER_PAGE + 4, 0x00ad0003);
  after_write = *pte;
  tap_ok(v == 0x00ad00ae && bits(after_read, PTE_A | PTE_D, PTE_A) &&
             bits(after_write, PTE_A | PTE_D, PTE_A | PTE_D),
         "ring-3 accesses set them too: after the read PTE 0x%03x, after the write 0x%03x",
         after_read & 0xfff, after_write & 0xfff);

  /* mov $0xc0de0001, %eax; ret - written through the identity map of its physical page, so
     the code page's own PTE sees only the fetch. */
  uint8_t* code = page_alloc();
  static const uint8_t ret_imm[] = {0xb8, 0x01, 0x00, 0xde, 0xc0, 0xc3};
  for (uint32_t i = 0; i < sizeof ret_imm; i++) code[i] = ret_imm[i];
  map_page(kernel_pd, AD_CODE_PAGE, (uint32_t)code, PTE_RW);
  pte = pte_get(kernel_pd, AD_CODE_PAGE);
  uint32_t (*fn)(void) = (uint32_t(*)(void))AD_CODE_PAGE;
  v = fn();
  pte_t after_fetch = *pte;
  tap_ok(v == 0xc0de0001 && bits(after_fetch, PTE_A | PTE_D, PTE_A),
         "an instruction fetch sets A but not D (PTE 0x%03x, the code returned 0x%08x)",
         after_fetch & 0xfff, v);
}
