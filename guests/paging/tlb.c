/* Changes to the paging structures that the CPU must honour at once: a PTE changed plus invlpg
   (a new frame, fewer rights, not present), a non-global PTE changed plus a CR3 load, a switch
   to another directory, a global PTE changed plus invlpg or a CR4.PGE toggle, a global page
   another directory maps elsewhere after a CR4.PGE toggle, a code page remapped plus invlpg.
   Whether a stale
   entry would still be used without the flush is up to the CPU, so it is never checked. */
#include <stdint.h>

#include "desc.h"
#include "page_pool.h"
#include "paging_guest.h"
#include "tap.h"

#define REMAP_PAGE (TLB_BASE)
#define RELOAD_PAGE (TLB_BASE + 0x1000)
#define GLOBAL_PAGE (GLOBAL_BASE)
#define CODE_PAGE (TLB_BASE + 0x2000)

/* A page of code: mov eax, value; ret. */
static uint32_t code_page(uint32_t value) {
  uint32_t phys = (uint32_t)page_alloc();
  volatile uint8_t* p = (volatile uint8_t*)phys_ptr(phys);
  p[0] = 0xb8;
  for (int i = 0; i < 4; i++) p[1 + i] = (uint8_t)(value >> (8 * i));
  p[5] = 0xc3;
  return phys;
}

/* Calls CODE_PAGE directly (a call with a fixed target) and through a register. */
static uint32_t call_direct(void) {
  uint32_t r;
  __asm__ volatile("call %P1" : "=a"(r) : "i"(CODE_PAGE) : "ecx", "edx", "memory");
  return r;
}
static uint32_t call_indirect(void) {
  uint32_t (*volatile f)(void) = (uint32_t(*)(void))CODE_PAGE;
  return f();
}

/* A directory sharing the kernel's identity map (its first page table), nothing else. */
static volatile pte_t* other_directory(void) {
  volatile pte_t* pd = pd_create();
  *pde_get(pd, 0) = *pde_get(kernel_pd, 0);
  return pd;
}

/* The global TLB flush: CR4.PGE cleared and set again. */
static void toggle_pge(void) {
  uint32_t cr4 = read_cr4();
  write_cr4(cr4 & ~CR4_PGE);
  write_cr4(cr4);
}

static void check_invlpg(void) {
  uint32_t p1 = marked_page(0x11111111), p2 = marked_page(0x22222222);
  pf_arm(0);
  map_page(kernel_pd, REMAP_PAGE, p1, PTE_RW);
  volatile pte_t* pte = pte_get(kernel_pd, REMAP_PAGE);
  uint32_t before = kread(REMAP_PAGE + 0x40);
  *pte = p2 | PTE_P | PTE_RW;
  invlpg(REMAP_PAGE);
  uint32_t after = kread(REMAP_PAGE + 0x40);
  kwrite(REMAP_PAGE + 0x44, 0x2222aaaa);
  tap_ok(before == 0x11111111 && after == 0x22222222 && phys_ptr(p2)[0x11] == 0x2222aaaa &&
             phys_ptr(p1)[0x11] == 0x11111111,
         "a PTE pointed at another frame plus invlpg: reads (0x%08x, then 0x%08x) and writes go "
         "to the new frame at once",
         before, after);

  /* Fewer rights: the TLB has a writable entry from the write above. */
  *pte = p2 | PTE_P;
  invlpg(REMAP_PAGE);
  pf_arm_entry(pte, p2 | PTE_P | PTE_RW);
  kwrite(REMAP_PAGE + 0x48, 0x2222bbbb);
  tap_ok(pf_expect(REMAP_PAGE + 0x48, PF_P | PF_W, kwrite_insn, SEL_KERNEL_CODE),
         "a PTE made read-only plus invlpg: the next write faults (error 3)");

  *pte = 0;
  invlpg(REMAP_PAGE);
  pf_arm_entry(pte, p1 | PTE_P | PTE_RW);
  uint32_t v = kread(REMAP_PAGE + 0x4c);
  tap_ok(pf_expect(REMAP_PAGE + 0x4c, 0, kread_insn, SEL_KERNEL_CODE) && v == 0x11111111,
         "a PTE cleared plus invlpg: the next read faults (error 0)");
  pf_arm(0);
}

static void check_cr3(void) {
  uint32_t p1 = marked_page(0x33333333), p2 = marked_page(0x44444444);
  uint32_t p3 = marked_page(0x55555555);
  map_page(kernel_pd, RELOAD_PAGE, p1, PTE_RW);
  volatile pte_t* pte = pte_get(kernel_pd, RELOAD_PAGE);
  uint32_t before = kread(RELOAD_PAGE);
  *pte = p2 | PTE_P | PTE_RW;
  reload_cr3();
  uint32_t after = kread(RELOAD_PAGE);
  tap_ok(before == 0x33333333 && after == 0x44444444,
         "a non-global PTE changed plus a CR3 reload: the new frame is read (0x%08x, then 0x%08x)",
         before, after);

  /* A second directory: the same kernel identity map (shared page table), another frame at
     RELOAD_PAGE. */
  volatile pte_t* other = other_directory();
  map_page(other, RELOAD_PAGE, p3, PTE_RW);
  write_cr3((uint32_t)other);
  uint32_t in_other = kread(RELOAD_PAGE);
  write_cr3((uint32_t)kernel_pd);
  uint32_t back = kread(RELOAD_PAGE);
  tap_ok(in_other == 0x55555555 && back == 0x44444444,
         "CR3 switched to another directory and back: 0x%08x, then 0x%08x", in_other, back);
}

static void check_global(void) {
  uint32_t p1 = marked_page(0x66666666), p2 = marked_page(0x77777777);
  uint32_t p3 = marked_page(0x88888888);
  map_page(kernel_pd, GLOBAL_PAGE, p1, PTE_RW | PTE_G);
  volatile pte_t* pte = pte_get(kernel_pd, GLOBAL_PAGE);
  uint32_t first = kread(GLOBAL_PAGE);
  *pte = p2 | PTE_P | PTE_RW | PTE_G;
  invlpg(GLOBAL_PAGE);
  uint32_t second = kread(GLOBAL_PAGE);
  tap_ok(first == 0x66666666 && second == 0x77777777,
         "a global PTE (CR4.PGE=1) changed plus invlpg: the new frame is read (0x%08x, then "
         "0x%08x)",
         first, second);

  *pte = p3 | PTE_P | PTE_RW | PTE_G;
  toggle_pge();
  uint32_t third = kread(GLOBAL_PAGE);
  tap_ok(third == 0x88888888 && (read_cr4() & CR4_PGE),
         "a global PTE changed plus CR4.PGE cleared and set again: the new frame is read (0x%08x)",
         third);

  /* Another directory maps the global page elsewhere. Right after the switch the CPU may
     still use the global entry (not checked); after a CR4.PGE toggle it must use the new
     directory's, and the same going back. */
  uint32_t p4 = marked_page(0x99999999);
  volatile pte_t* other = other_directory();
  map_page(other, GLOBAL_PAGE, p4, PTE_RW);
  write_cr3((uint32_t)other);
  toggle_pge();
  uint32_t in_other = kread(GLOBAL_PAGE);
  write_cr3((uint32_t)kernel_pd);
  toggle_pge();
  uint32_t back = kread(GLOBAL_PAGE);
  tap_ok(in_other == 0x99999999 && back == 0x88888888,
         "a global page mapped elsewhere in another directory: after CR3 switch plus CR4.PGE "
         "toggle 0x%08x, and back 0x%08x",
         in_other, back);
}

/* Code remapped: a PTE for code pointed at another page of code plus invlpg; calls to it, the
   same call sites as before, run the new code (a VMM must not keep jumping to what it
   translated from the old page). */
static void check_code_remap(void) {
  uint32_t frames[2] = {code_page(0x1111c0de), code_page(0x2222c0de)};
  map_page(kernel_pd, CODE_PAGE, frames[0], PTE_RW);
  volatile pte_t* pte = pte_get(kernel_pd, CODE_PAGE);
  uint32_t got[3][2], want[3] = {0x1111c0de, 0x2222c0de, 0x1111c0de};
  int ok = 1;
  /* Twice over, from the same instructions: a VMM may treat the first time specially. */
  for (int round = 0; round < 3; round++) {
    if (round) {
      *pte = frames[round & 1] | PTE_P | PTE_RW;
      invlpg(CODE_PAGE);
    }
    for (int i = 0; i < 3; i++) { /* repeated, so that calls get chained/cached */
      got[round][0] = call_direct();
      got[round][1] = call_indirect();
      ok &= got[round][0] == want[round] && got[round][1] == want[round];
    }
  }
  tap_ok(ok,
         "a code page remapped plus invlpg, twice: calls to it run the new code (direct 0x%08x, "
         "0x%08x, 0x%08x; indirect 0x%08x, 0x%08x, 0x%08x)",
         got[0][0], got[1][0], got[2][0], got[0][1], got[1][1], got[2][1]);
}

void check_tlb(void) {
  check_invlpg();
  check_cr3();
  check_global();
  check_code_remap();
}
