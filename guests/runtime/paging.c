#include "paging.h"

#include "exit.h"
#include "kprintf.h"

enum { EXIT_PAGING_MISUSE = 3 };

static void misuse(const char* what, uint32_t linear) {
  kprintf("Bail out! paging: %s at 0x%08x\n", what, linear);
  guest_exit(EXIT_PAGING_MISUSE);
}

volatile pte_t* pd_create(void) {
  return page_alloc();
}

volatile pte_t* pde_get(volatile pte_t* pd, uint32_t linear) {
  return &pd[PD_INDEX(linear)];
}

volatile pte_t* pte_get(volatile pte_t* pd, uint32_t linear) {
  pte_t pde = pd[PD_INDEX(linear)];
  if (!(pde & PTE_P) || (pde & PDE_PS)) return 0;
  volatile pte_t* pt = (volatile pte_t*)(pde & PTE_ADDR);
  return &pt[PT_INDEX(linear)];
}

void map_page(volatile pte_t* pd, uint32_t linear, uint32_t phys, uint32_t flags) {
  volatile pte_t* pde = pde_get(pd, linear);
  if (*pde & PDE_PS) misuse("4 KiB page inside a 4 MiB mapping", linear);
  if (!(*pde & PTE_P)) *pde = (uint32_t)page_alloc() | PTE_P | PTE_RW | PTE_US;
  volatile pte_t* pt = (volatile pte_t*)(*pde & PTE_ADDR);
  pt[PT_INDEX(linear)] = (phys & PTE_ADDR) | (flags & ~PTE_ADDR) | PTE_P;
}

void map_range(volatile pte_t* pd, uint32_t linear, uint32_t phys, uint32_t size, uint32_t flags) {
  for (uint32_t off = 0; off < size; off += PAGE_SIZE)
    map_page(pd, linear + off, phys + off, flags);
}

void map_large(volatile pte_t* pd, uint32_t linear, uint32_t phys, uint32_t flags) {
  if ((linear | phys) & (LARGE_PAGE_SIZE - 1)) misuse("unaligned 4 MiB page", linear);
  *pde_get(pd, linear) = (phys & PDE_LARGE_ADDR) | (flags & 0xfffu) | PDE_PS | PTE_P;
}

void unmap_page(volatile pte_t* pd, uint32_t linear) {
  volatile pte_t* pde = pde_get(pd, linear);
  if (*pde & PDE_PS) {
    *pde = 0;
    return;
  }
  volatile pte_t* pte = pte_get(pd, linear);
  if (pte) *pte = 0;
}

int translate(volatile pte_t* pd, uint32_t linear, uint32_t* phys) {
  pte_t pde = *pde_get(pd, linear);
  if (!(pde & PTE_P)) return 0;
  if (pde & PDE_PS) {
    *phys = (pde & PDE_LARGE_ADDR) | (linear & (LARGE_PAGE_SIZE - 1));
    return 1;
  }
  pte_t pte = *pte_get(pd, linear);
  if (!(pte & PTE_P)) return 0;
  *phys = (pte & PTE_ADDR) | (linear & (PAGE_SIZE - 1));
  return 1;
}

void paging_enable(volatile pte_t* pd, uint32_t cr4_bits) {
  /* PSE and PGE first: the first walk after CR0.PG must already see 4 MiB and global pages. */
  write_cr4(read_cr4() | cr4_bits);
  write_cr3((uint32_t)pd);
  write_cr0(read_cr0() | CR0_PG | CR0_WP);
}
