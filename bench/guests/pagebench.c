/* The cost of guest paging, which a VMM without EPT/NPT must shadow or translate in software:
   a not-present #PF from ring 3 fixed up by the kernel, a PTE rewrite with invlpg, a CR3
   switch, a global TLB flush (CR4.PGE toggle), a system call whose handler reads
   supervisor-only pages (what keeps them from ring 3 costs a VMM without protection keys),
   and first touches of 64 MiB of freshly mapped pages. Loops are timed with rdtsc, best of
   REPEATS runs (the host may preempt the VMM in any one of them); one line per measurement:
   `pagebench.<name>: <cycles per operation>` (loop overhead included). Every loop also checks
   that the translation did what it should, so a VMM that gets paging wrong fails (non-zero
   exit) instead of reporting a fast number.

   Needs 256 MiB of guest RAM (bt86 --mem 256M, qemu -m 256): touch64m uses guest physical
   memory from 16 MiB to 208 MiB. */
#include <stdint.h>

#include "desc.h"
#include "exit.h"
#include "idt.h"
#include "kprintf.h"
#include "multiboot.h"
#include "paging.h"
#include "protected_init.h"
#include "user.h"

enum {
  ITERATIONS = 20000,
  PF_ITERATIONS = 10000, /* a fault round trip costs far more than the other operations */
  REPEATS = 5,
  EXIT_VECTOR = 0x81, /* ends a ring-3 loop through the dispatcher */
  SYSCALL_VECTOR = 0x80,
  SUPER_PAGES = 4, /* supervisor-only pages the system call handler reads */
  USER_STACK_SIZE = 0x4000,
  EXIT_SETUP = 3,
  EXIT_WRONG = 4,
};

/* Linear addresses of the test pages, each in its own page table, away from the identity map
   of the kernel (0 - 4 MiB) and of the touch regions (16 - 208 MiB). */
#define PF_PAGE0 0x40000000u   /* pf_user alternates between this page and the next */
#define PTE_PAGE 0x40400000u   /* pte_write */
#define CR3_PAGE 0x40800000u   /* cr3_switch: a different frame in each directory */
#define SUPER_BASE 0x40c00000u /* syscall_super: SUPER_PAGES supervisor-only pages */

/* touch64m: TOUCH_REGIONS disjoint 64 MiB regions, identity mapped, each touched exactly once
   (one run per region), so that every run sees pages nobody has touched before. */
#define TOUCH_SIZE 0x4000000u
#define TOUCH_BASE 0x1000000u
#define TOUCH_REGIONS 3
#define TOUCH_PAGES (TOUCH_SIZE / PAGE_SIZE)
#define TOUCH_END (TOUCH_BASE + TOUCH_REGIONS * TOUCH_SIZE)

extern const char __kernel_end[];

static volatile uint64_t cycles; /* written by ring 3, read by the kernel */
static volatile pte_t* kernel_pd;
static volatile pte_t* pf_pte[2];
static uint32_t pf_frame[2];
static volatile uint32_t pf_faults;
static volatile uint32_t touch_base; /* the region the next touch64m run writes */
static volatile uint32_t syscall_sum;

static inline uint64_t rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (uint64_t)hi << 32 | lo;
}

static __attribute__((noreturn)) void wrong(const char* what, uint32_t a, uint32_t b) {
  kprintf("Bail out! pagebench: %s (0x%08x, 0x%08x)\n", what, a, b);
  guest_exit(EXIT_WRONG);
}

static __attribute__((noreturn)) void user_done(void) {
  __asm__ volatile("int %0" : : "i"(EXIT_VECTOR));
  __builtin_unreachable();
}

static void on_exit(struct trap_frame* f) {
  (void)f;
  user_return(0);
}

/* pf_user: the user loop writes PF_PAGE0 and PF_PAGE0 + 4 KiB in turn. Both start not
   present; the handler maps the faulting page and unmaps the other one, so every write of the
   loop faults. One iteration: the ring-3 write, #PF (not present) through the dispatcher stub,
   this handler (read CR2, write the faulting page's PTE, clear the other page's PTE, invlpg it),
   iret, and the write retried successfully. No invlpg for the page being mapped: a not-present
   entry is never cached, and the #PF itself invalidates the faulting address. */
static void on_page_fault(struct trap_frame* f) {
  uint32_t cr2 = read_cr2();
  uint32_t page = (cr2 - PF_PAGE0) / PAGE_SIZE;
  if (f->error != (PF_U | PF_W) || cr2 - PF_PAGE0 >= 2 * PAGE_SIZE)
    wrong("unexpected #PF (CR2, error)", cr2, f->error);
  *pf_pte[page] = pf_frame[page] | PTE_P | PTE_RW | PTE_US;
  *pf_pte[page ^ 1] = 0;
  invlpg(PF_PAGE0 + (page ^ 1) * PAGE_SIZE);
  pf_faults++;
}

static void user_pf(void) {
  uint64_t t0 = rdtsc();
  for (uint32_t i = 0; i < PF_ITERATIONS; i++)
    *(volatile uint32_t*)(PF_PAGE0 + (i & 1) * PAGE_SIZE) = i;
  cycles = rdtsc() - t0;
  user_done();
}

/* syscall_super: int 0x80 from ring 3; the handler reads one word of each supervisor-only
   page (tagged 0x5000 + i) and returns. One iteration: the ring switch in, the reads, iret. */
static void on_syscall(struct trap_frame* f) {
  (void)f;
  uint32_t sum = 0;
  for (uint32_t i = 0; i < SUPER_PAGES; i++)
    sum += *(volatile uint32_t*)(SUPER_BASE + i * PAGE_SIZE);
  syscall_sum += sum;
}

static void user_syscall(void) {
  uint64_t t0 = rdtsc();
  for (uint32_t i = 0; i < ITERATIONS; i++)
    __asm__ volatile("int %0" : : "i"(SYSCALL_VECTOR) : "memory");
  cycles = rdtsc() - t0;
  user_done();
}

/* touch64m: one write per 4 KiB page of the region, from ring 3. */
static void user_touch(void) {
  uint32_t base = touch_base;
  uint64_t t0 = rdtsc();
  for (uint32_t p = base; p < base + TOUCH_SIZE; p += PAGE_SIZE) *(volatile uint32_t*)p = p;
  cycles = rdtsc() - t0;
  user_done();
}

static uint8_t user_stack[USER_STACK_SIZE] __attribute__((aligned(16)));

static uint64_t run_pf_once(void) {
  /* Both pages not present, and no stale TLB entry from the previous run's last mapping. */
  for (int i = 0; i < 2; i++) {
    *pf_pte[i] = 0;
    invlpg(PF_PAGE0 + i * PAGE_SIZE);
  }
  pf_faults = 0;
  user_run(user_pf, user_stack + sizeof user_stack, 0);
  /* Every write faulted exactly once, and each landed in its own frame. */
  if (pf_faults != PF_ITERATIONS) wrong("pf_user: faults != iterations", pf_faults, PF_ITERATIONS);
  uint32_t last0 = *(volatile uint32_t*)pf_frame[0], last1 = *(volatile uint32_t*)pf_frame[1];
  if (last0 != PF_ITERATIONS - 2 || last1 != PF_ITERATIONS - 1)
    wrong("pf_user: last writes did not reach their frames", last0, last1);
  return cycles;
}

/* pte_write: ring 0 points PTE_PAGE at frame a and frame b in turn; one operation is the PTE
   write, invlpg and a read through the new translation (checked against the frame's tag). */
static uint64_t run_pte_once(void) {
  static uint32_t frame[2];
  if (!frame[0]) {
    for (int i = 0; i < 2; i++) {
      frame[i] = (uint32_t)page_alloc();
      *(volatile uint32_t*)frame[i] = 0xf0000000u + i;
    }
  }
  volatile pte_t* pte = pte_get(kernel_pd, PTE_PAGE);
  volatile uint32_t* p = (volatile uint32_t*)PTE_PAGE;
  uint32_t bad = 0;
  uint64_t t0 = rdtsc();
  for (uint32_t i = 0; i < ITERATIONS; i++) {
    *pte = frame[i & 1] | PTE_P | PTE_RW;
    invlpg(PTE_PAGE);
    bad |= *p ^ (0xf0000000u + (i & 1));
  }
  uint64_t t = rdtsc() - t0;
  if (bad) wrong("pte_write: read through a stale translation", bad, 0);
  return t;
}

/* cr3_switch: `other` is a copy of the kernel directory whose CR3_PAGE goes to another frame.
   One operation is a CR3 load plus a read of CR3_PAGE through the new directory (checked);
   the kernel's own pages are global, so only non-global entries are flushed, as in a real
   kernel's process switch. */
static volatile pte_t* other_pd;
static uint64_t run_cr3_once(void) {
  uint32_t pd[2] = {(uint32_t)kernel_pd, (uint32_t)other_pd};
  volatile uint32_t* p = (volatile uint32_t*)CR3_PAGE;
  uint32_t bad = 0;
  uint64_t t0 = rdtsc();
  for (uint32_t i = 0; i < ITERATIONS; i++) {
    write_cr3(pd[(i & 1) ^ 1]);
    bad |= *p ^ (0xc0000000u + ((i & 1) ^ 1));
  }
  uint64_t t = rdtsc() - t0;
  /* An even count of switches ends in the kernel directory. */
  if (read_cr3() != (uint32_t)kernel_pd) wrong("cr3_switch: ended in the wrong directory", 0, 0);
  if (bad) wrong("cr3_switch: read through the other directory", bad, 0);
  return t;
}

static uint64_t run_syscall_once(void) {
  syscall_sum = 0;
  user_run(user_syscall, user_stack + sizeof user_stack, 0);
  uint32_t want = 0;
  for (uint32_t i = 0; i < SUPER_PAGES; i++) want += 0x5000 + i;
  if (syscall_sum != want * ITERATIONS)
    wrong("syscall_super: the handler read the wrong words", syscall_sum, want * ITERATIONS);
  return cycles;
}

/* global_flush: the global TLB flush Linux does (CR4.PGE cleared and set again), then a read
   of CR3_PAGE (not global) and of a kernel page (global). */
static uint64_t run_global_flush_once(void) {
  volatile uint32_t* p = (volatile uint32_t*)CR3_PAGE;
  uint32_t cr4 = read_cr4(), bad = 0;
  uint64_t t0 = rdtsc();
  for (uint32_t i = 0; i < ITERATIONS; i++) {
    write_cr4(cr4 & ~CR4_PGE);
    write_cr4(cr4);
    bad |= *p ^ 0xc0000000u;
    bad |= pf_faults ^ PF_ITERATIONS; /* a global kernel page, unchanged since pf_user */
  }
  uint64_t t = rdtsc() - t0;
  if (bad) wrong("global_flush: read the wrong values", bad, 0);
  return t;
}

static uint64_t run_touch_once(int region) {
  touch_base = TOUCH_BASE + (uint32_t)region * TOUCH_SIZE;
  user_run(user_touch, user_stack + sizeof user_stack, 0);
  /* Spot checks: first and last page of the region hold their own addresses. */
  uint32_t first = touch_base, last = touch_base + TOUCH_SIZE - PAGE_SIZE;
  if (*(volatile uint32_t*)first != first || *(volatile uint32_t*)last != last)
    wrong("touch64m: writes did not reach memory", first, last);
  return cycles;
}

static void setup(const struct multiboot_info* mbi) {
  if ((uint32_t)__kernel_end > LARGE_PAGE_SIZE)
    wrong("the kernel image ends beyond the 4 MiB identity map", (uint32_t)__kernel_end, 0);
  if (!(mbi->flags & MULTIBOOT_INFO_MEMORY) || 0x100000u + mbi->mem_upper * 1024u < TOUCH_END) {
    kprintf("Bail out! pagebench needs guest RAM up to 0x%08x: run with --mem 256M / -m 256\n",
            TOUCH_END);
    guest_exit(EXIT_SETUP);
  }
  kernel_pd = pd_create();
  /* The kernel image, its stacks and the pool, global and user accessible: the ring-3 loops
     are kernel functions running on a stack in .bss. Page 0 stays unmapped. */
  map_range(kernel_pd, PAGE_SIZE, PAGE_SIZE, LARGE_PAGE_SIZE - PAGE_SIZE, PTE_RW | PTE_US | PTE_G);
  /* touch64m: 4 KiB user pages, present and writable, never accessed (A and D clear). */
  map_range(kernel_pd, TOUCH_BASE, TOUCH_BASE, TOUCH_END - TOUCH_BASE, PTE_RW | PTE_US);

  /* pf_user: create the page table with a mapping, then make both pages not present. */
  for (int i = 0; i < 2; i++) {
    uint32_t linear = PF_PAGE0 + (uint32_t)i * PAGE_SIZE;
    pf_frame[i] = (uint32_t)page_alloc();
    map_page(kernel_pd, linear, pf_frame[i], PTE_RW | PTE_US);
    pf_pte[i] = pte_get(kernel_pd, linear);
    *pf_pte[i] = 0;
  }

  map_page(kernel_pd, PTE_PAGE, (uint32_t)page_alloc(), PTE_RW);

  /* cr3_switch: the second directory shares every table but CR3_PAGE's. */
  uint32_t cr3_frame[2];
  for (int i = 0; i < 2; i++) {
    cr3_frame[i] = (uint32_t)page_alloc();
    *(volatile uint32_t*)cr3_frame[i] = 0xc0000000u + (uint32_t)i;
  }
  map_page(kernel_pd, CR3_PAGE, cr3_frame[0], PTE_RW);
  other_pd = pd_create();
  for (uint32_t i = 0; i < PAGE_SIZE / sizeof(pte_t); i++) other_pd[i] = kernel_pd[i];
  other_pd[PD_INDEX(CR3_PAGE)] = 0;
  map_page(other_pd, CR3_PAGE, cr3_frame[1], PTE_RW);

  /* syscall_super: supervisor only, read-write, not global. */
  for (uint32_t i = 0; i < SUPER_PAGES; i++) {
    uint32_t frame = (uint32_t)page_alloc();
    *(volatile uint32_t*)frame = 0x5000 + i;
    map_page(kernel_pd, SUPER_BASE + i * PAGE_SIZE, frame, PTE_RW);
  }

  paging_enable(kernel_pd, CR4_PGE);
}

static uint64_t best_of(uint64_t (*run)(void)) {
  uint64_t best = UINT64_MAX;
  for (int r = 0; r < REPEATS; r++) {
    uint64_t t = run();
    if (t < best) best = t;
  }
  return best;
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  protected_init();
  idt_set_gate(EXIT_VECTOR, GATE_INTERRUPT, 3);
  trap_register(EXIT_VECTOR, on_exit);
  trap_register(VEC_PF, on_page_fault);
  idt_set_gate(SYSCALL_VECTOR, GATE_INTERRUPT, 3);
  trap_register(SYSCALL_VECTOR, on_syscall);
  setup(mbi);

  kprintf("# best of %d runs, cycles per operation (rdtsc, loop overhead included)\n", REPEATS);
  kprintf(
      "# pf_user: %d ring-3 writes, each a not-present #PF: dispatcher, handler maps the page "
      "(PTE write) and unmaps the other one (PTE clear + invlpg), iret, write retried\n",
      PF_ITERATIONS);
  kprintf("pagebench.pf_user: %llu\n", best_of(run_pf_once) / PF_ITERATIONS);
  kprintf("# pte_write: %d x ring 0 PTE write (two frames in turn) + invlpg + read\n", ITERATIONS);
  kprintf("pagebench.pte_write: %llu\n", best_of(run_pte_once) / ITERATIONS);
  kprintf(
      "# cr3_switch: %d x mov cr3 (two directories in turn, kernel global) + read of a page "
      "mapped differently in each\n",
      ITERATIONS);
  kprintf("pagebench.cr3_switch: %llu\n", best_of(run_cr3_once) / ITERATIONS);
  kprintf(
      "# global_flush: %d x CR4.PGE cleared and set (a global TLB flush) + a read of a "
      "non-global and of a global page\n",
      ITERATIONS);
  kprintf("pagebench.global_flush: %llu\n", best_of(run_global_flush_once) / ITERATIONS);
  kprintf(
      "# syscall_super: %d x int 0x80 from ring 3 whose handler reads %d supervisor-only pages, "
      "iret\n",
      ITERATIONS, SUPER_PAGES);
  kprintf("pagebench.syscall_super: %llu\n", best_of(run_syscall_once) / ITERATIONS);

  /* Fresh pages cannot be reused, so each run gets its own region: best of TOUCH_REGIONS. */
  uint64_t best = UINT64_MAX;
  for (int r = 0; r < TOUCH_REGIONS; r++) {
    uint64_t t = run_touch_once(r);
    if (t < best) best = t;
  }
  kprintf(
      "# touch64m: one ring-3 write to each of %u never-touched 4 KiB pages (64 MiB, mapped "
      "present+writable+user up front), best of %d fresh regions; _total is the whole 64 MiB\n",
      TOUCH_PAGES, TOUCH_REGIONS);
  kprintf("pagebench.touch64m: %llu\n", best / TOUCH_PAGES);
  kprintf("pagebench.touch64m_total: %llu\n", best);
  kprintf("# page pool: %u of %d pages used\n", page_pool_used(), PAGE_POOL_PAGES);
  return 0;
}
