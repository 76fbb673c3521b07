/* 32-bit two-level paging without PAE (as on the Pentium Pro/II): page directories and tables
   built from page_pool pages, 4 KiB and 4 MiB (CR4.PSE) mappings, the control registers, invlpg.
   Tables are reached through their physical addresses, so the kernel image (which holds the
   pool) must stay identity mapped in every directory the guest uses. Nothing here flushes the
   TLB implicitly: each guest decides when to invlpg or reload CR3, because that is what the
   tests are about. */
#ifndef BT86_GUEST_PAGING_H
#define BT86_GUEST_PAGING_H

#include <stdint.h>

#include "page_pool.h"

#define LARGE_PAGE_SIZE 0x400000u

/* Directory and table entry bits. */
#define PTE_P 0x001u
#define PTE_RW 0x002u
#define PTE_US 0x004u
#define PTE_PWT 0x008u
#define PTE_PCD 0x010u
#define PTE_A 0x020u
#define PTE_D 0x040u    /* in a PTE, or in a PDE that maps a 4 MiB page */
#define PDE_PS 0x080u   /* the PDE maps a 4 MiB page (needs CR4.PSE) */
#define PTE_G 0x100u    /* global: survives CR3 loads (needs CR4.PGE) */
#define PTE_AVL_SHIFT 9 /* bits 9-11 are the OS's own */
#define PTE_AVL(n) ((uint32_t)(n) << PTE_AVL_SHIFT)
#define PTE_ADDR 0xfffff000u
#define PDE_LARGE_ADDR 0xffc00000u

/* The #PF error code. Without NX and SMEP, 32-bit paging reports no instruction-fetch bit. */
#define PF_P 0x1u /* 1: protection violation, 0: not present */
#define PF_W 0x2u /* 1: write */
#define PF_U 0x4u /* 1: CPL 3 */

#define CR0_WP 0x00010000u
#define CR0_PG 0x80000000u
#define CR4_PSE 0x00000010u
#define CR4_PGE 0x00000080u

#define PD_INDEX(linear) ((uint32_t)(linear) >> 22)
#define PT_INDEX(linear) (((uint32_t)(linear) >> 12) & 0x3ffu)

typedef uint32_t pte_t;

/* Entries are read and written through volatile pointers: the CPU sets A and D behind the
   compiler's back. */

/* An empty (all not-present) page directory from the pool. */
volatile pte_t* pd_create(void);

/* The directory entry for `linear`. */
volatile pte_t* pde_get(volatile pte_t* pd, uint32_t linear);
/* The table entry for `linear`, or 0 when its PDE is not present or maps a 4 MiB page. */
volatile pte_t* pte_get(volatile pte_t* pd, uint32_t linear);

/* Maps the 4 KiB page at `linear` to `phys` with `flags` (PTE_P is added). A missing page
   table comes from the pool with PDE flags P|RW|US, so the PTE alone decides the access
   rights; a guest that wants the PDE to restrict them edits it with pde_get(). */
void map_page(volatile pte_t* pd, uint32_t linear, uint32_t phys, uint32_t flags);
/* map_page() over [linear, linear + size), size a multiple of PAGE_SIZE. */
void map_range(volatile pte_t* pd, uint32_t linear, uint32_t phys, uint32_t size, uint32_t flags);
/* Maps the 4 MiB page at `linear` (4 MiB aligned) to `phys` (4 MiB aligned) with `flags`
   (PTE_P and PDE_PS are added). */
void map_large(volatile pte_t* pd, uint32_t linear, uint32_t phys, uint32_t flags);
/* Makes `linear` not present: clears its PTE, or its PDE if that maps a 4 MiB page. */
void unmap_page(volatile pte_t* pd, uint32_t linear);

/* Walks `pd` in software as the CPU would (ignoring rights): 1 and *phys if mapped. */
int translate(volatile pte_t* pd, uint32_t linear, uint32_t* phys);

/* Sets CR4 |= `cr4_bits` (CR4_PSE, CR4_PGE), loads CR3 = pd, then sets CR0.PG and CR0.WP (so
   ring 0 honours read-only pages, as every modern kernel wants). */
void paging_enable(volatile pte_t* pd, uint32_t cr4_bits);

static inline uint32_t read_cr0(void) {
  uint32_t v;
  __asm__ volatile("movl %%cr0, %0" : "=r"(v));
  return v;
}
static inline uint32_t read_cr2(void) {
  uint32_t v;
  __asm__ volatile("movl %%cr2, %0" : "=r"(v));
  return v;
}
static inline uint32_t read_cr3(void) {
  uint32_t v;
  __asm__ volatile("movl %%cr3, %0" : "=r"(v));
  return v;
}
static inline uint32_t read_cr4(void) {
  uint32_t v;
  __asm__ volatile("movl %%cr4, %0" : "=r"(v));
  return v;
}
/* The "memory" clobbers keep the compiler from moving accesses across a change of the
   translation they go through. */
static inline void write_cr0(uint32_t v) {
  __asm__ volatile("movl %0, %%cr0" ::"r"(v) : "memory");
}
static inline void write_cr3(uint32_t v) {
  __asm__ volatile("movl %0, %%cr3" ::"r"(v) : "memory");
}
static inline void write_cr4(uint32_t v) {
  __asm__ volatile("movl %0, %%cr4" ::"r"(v) : "memory");
}
static inline void invlpg(uint32_t linear) {
  __asm__ volatile("invlpg (%0)" ::"r"(linear) : "memory");
}
/* Drops every non-global TLB entry. */
static inline void reload_cr3(void) {
  write_cr3(read_cr3());
}

#endif
