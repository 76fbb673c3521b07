/* Physical pages for page tables and test pages: a static, page-aligned pool in .bss.
   Pool pages lie inside the kernel image, so wherever the image is identity mapped (every
   paging guest keeps it so) a pool page's physical address is also a usable pointer, before
   and after paging is turned on. Pages are never freed: guests are short. */
#ifndef BT86_GUEST_PAGE_POOL_H
#define BT86_GUEST_PAGE_POOL_H

#include <stdint.h>

#define PAGE_SIZE 0x1000u
#define PAGE_POOL_PAGES 128 /* 512 KiB: a few directories, tables and test pages per guest */

/* A zeroed 4 KiB page; its address is physical (= linear through the identity map). Stops the
   guest with `Bail out!` when the pool is used up, so callers need no check. */
void* page_alloc(void);

/* How many pages page_alloc() has handed out. */
uint32_t page_pool_used(void);

/* The pool index (0 .. PAGE_POOL_PAGES-1) of the page holding physical address `phys`, or -1
   when it is not a pool page: lets a guest keep per-page data such as reference counts. */
int page_pool_index(uint32_t phys);

#endif
