/* The paging guest's parts: the linear-address layout, the probes in probes.S and the page
   fault log every check reads CR2 and the error code from. */
#ifndef BT86_PAGING_GUEST_H
#define BT86_PAGING_GUEST_H

#define KERNEL_HIGH 0xc0000000u /* the higher-half alias of physical 0 .. 4 MiB */

#ifndef __ASSEMBLER__
#include <stdint.h>

#include "paging.h"

/* Linear layout: each test region has its own directory entry, so a fresh page table starts
   with clear A bits and no check sees another's mappings. */
#define IDENTITY_END LARGE_PAGE_SIZE /* 4 KiB .. 4 MiB identity mapped: the image and pool */
#define DEMAND_BASE 0x50000000u
#define USER_DEMAND_BASE 0x50400000u
#define RIGHTS_BASE 0x60000000u
#define PDE_RO_BASE 0x60400000u
#define PDE_SUPER_BASE 0x60800000u
#define AD_BASE 0x61000000u
#define TLB_BASE 0x62000000u
#define GLOBAL_BASE 0x62400000u
#define LARGE_BASE 0x80000000u /* four 4 MiB pages from here */

/* The directory the guest runs on, with the identity map of the kernel image. */
extern volatile pte_t* kernel_pd;

static inline volatile uint32_t* phys_ptr(uint32_t phys) {
  return (volatile uint32_t*)phys; /* pool pages are identity mapped */
}

/* --- probes.S ----------------------------------------------------------------------------- */
/* Ring 0 loads and stores at known instructions, so a fault's saved EIP can be checked. */
uint32_t kread(uint32_t linear);
void kwrite(uint32_t linear, uint32_t value);
extern const char kread_insn[], kwrite_insn[];

/* Alone in its page: returns the address it runs at, stores `value` to *data after passing it
   through the stack's higher-half alias. */
uint32_t hh_run(volatile uint32_t* data, uint32_t value);
/* Alone in a page that is the only user-accessible code: one load or store, then SYS_EXIT. */
void user_access(void);
extern const char user_read_insn[], user_write_insn[];

/* --- fault.c ------------------------------------------------------------------------------ */
/* What the #PF handler saw. */
struct pf_record {
  uint32_t cr2, error, eip, cs;
};

/* Called by the #PF handler with CR2 and the error code; returns 1 when it changed the
   mappings so that the faulting access can be retried, 0 to stop the guest. */
typedef int (*pf_fixer)(uint32_t cr2, uint32_t error);

void pf_init(void);
/* Clears the log and sets the fixer; 0 means any fault stops the guest. */
void pf_arm(pf_fixer fixer);
/* Arms a one-shot fixer that writes `value` into `entry` (a PTE or PDE), invlpgs CR2 and lets
   the access retry; a second fault stops the guest. */
void pf_arm_entry(volatile pte_t* entry, pte_t value);
uint32_t pf_count(void);
struct pf_record pf_last(void);
/* Exactly one fault since pf_arm*(), at `cr2` with `error`, from the instruction at `eip` in
   code segment `cs`; prints what it saw instead when not. */
int pf_expect(uint32_t cr2, uint32_t error, const void* eip, uint32_t cs);

/* Makes user_access's code and stack pages user accessible in `pd` (its PDE already is). */
void open_user_pages(volatile pte_t* pd);
/* Runs user_access in ring 3 on its stack page (IF = 1: directly executed where bt86 can). */
uint32_t user_read(uint32_t linear);
void user_write(uint32_t linear, uint32_t value);
/* The read with IF = 0: bt86 translates such ring-3 code even where it executes ring 3
   directly (direct execution needs IF = 1), in its own window rather than the confined
   process's. */
uint32_t user_read_if0(uint32_t linear);

/* A fresh pool page with every word set to `marker`; returns its physical address. */
uint32_t marked_page(uint32_t marker);

/* --- the checks --------------------------------------------------------------------------- */
void check_higher_half(void);
void check_demand_paging(void);
void check_error_codes(void);
void check_accessed_dirty(void);
void check_tlb(void);
void check_large_pages(void);

#endif /* __ASSEMBLER__ */
#endif
