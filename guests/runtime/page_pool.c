#include "page_pool.h"

#include "exit.h"
#include "kprintf.h"

enum { EXIT_POOL_EXHAUSTED = 3 };

/* In .bss rather than above __kernel_end: the loader then knows the memory is the kernel's,
   and start.S has already zeroed it. */
static uint8_t pool[PAGE_POOL_PAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint32_t used;

void* page_alloc(void) {
  if (used == PAGE_POOL_PAGES) {
    kprintf("Bail out! page pool exhausted (%u pages)\n", (unsigned)PAGE_POOL_PAGES);
    guest_exit(EXIT_POOL_EXHAUSTED);
  }
  /* Already zero: start.S cleared .bss and a page is handed out only once. */
  return pool[used++];
}

uint32_t page_pool_used(void) {
  return used;
}

int page_pool_index(uint32_t phys) {
  uint32_t base = (uint32_t)pool;
  if (phys < base || phys - base >= sizeof pool) return -1;
  return (int)((phys - base) / PAGE_SIZE);
}
