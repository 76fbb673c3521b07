/* Ring-3 processes with their own page directories: process 0 forks two children, the kernel
   does copy-on-write on their private pages, the PIT's IRQ 0 preempts them and the scheduler
   switches by loading CR3. Each process runs a checksum workload over its private data; the
   kernel checks the results, the private and shared frames behind the same linear addresses,
   the copy-on-write counts and that every process was preempted and switched in again. The
   waits are bounded: without ticks the processes run one after another and the checks fail. */
#include <stdint.h>

#include "exit.h"
#include "kprintf.h"
#include "multiboot.h"
#include "processes.h"
#include "protected_init.h"
#include "syscall.h"
#include "tap.h"

enum {
  /* Moderate: a VMM that rebuilds its shadow page tables on every CR3 load can spend a whole
     1 kHz period switching, starving the processes. */
  TIMER_HZ = 250,
  EXIT_SETUP = 3,
  /* Three processes share the data page and the stack page after the forks: each page is
     copied for two of them and given back writable to the last. */
  COW_PAGES = 2,
  WANT_COPIES = COW_PAGES * (NPROC - 1),
  WANT_REUSES = COW_PAGES,
};

extern const char __kernel_end[];

/* What the processes try to read last: mapped in every address space, supervisor only. */
static volatile uint32_t kernel_secret = 0x5ec2e7ed;
static uint8_t expected_data[NPROC][PAGE_SIZE];
static uint32_t expected_sum[NPROC];

static volatile pte_t* setup_kernel_space(void) {
  if ((uint32_t)__kernel_end > LARGE_PAGE_SIZE) {
    kprintf("Bail out! the kernel image ends at 0x%08x, beyond the identity map\n",
            (uint32_t)__kernel_end);
    guest_exit(EXIT_SETUP);
  }
  volatile pte_t* pd = pd_create();
  /* Global: the same in every address space, so CR3 loads need not drop it. */
  map_range(pd, PAGE_SIZE, PAGE_SIZE, LARGE_PAGE_SIZE - PAGE_SIZE, PTE_RW | PTE_G);
  paging_enable(pd, CR4_PGE);
  return pd;
}

static uint32_t frame_of(volatile pte_t* pd, uint32_t linear) {
  uint32_t phys = 0;
  return translate(pd, linear, &phys) ? phys : 0;
}

static int same_bytes(const uint8_t* a, const uint8_t* b) {
  for (uint32_t i = 0; i < PAGE_SIZE; i++)
    if (a[i] != b[i]) return 0;
  return 1;
}

static int all_flags(volatile struct shared_page* sh, uint32_t flag) {
  for (int p = 0; p < NPROC; p++)
    if (!(sh->flags[p] & flag)) return 0;
  return 1;
}

/* The linear page `linear` is backed by a different frame in every process. */
static int distinct_frames(uint32_t linear) {
  for (int p = 0; p < NPROC; p++)
    for (int q = p + 1; q < NPROC; q++)
      if (frame_of(proc_result(p).pd, linear) == frame_of(proc_result(q).pd, linear)) return 0;
  return 1;
}

static void check_results(void) {
  volatile struct shared_page* sh = proc_shared();
  struct proc_stats st = proc_stats();
  struct proc_result r[NPROC];
  for (int p = 0; p < NPROC; p++) r[p] = proc_result(p);

  tap_ok(st.forks == NPROC - 1 && proc_count() == NPROC && r[0].pd != r[1].pd &&
             r[1].pd != r[2].pd && r[0].pd != r[2].pd,
         "process 0 forked %u times: %d processes, page directories at 0x%08x 0x%08x 0x%08x",
         st.forks, proc_count(), (uint32_t)r[0].pd, (uint32_t)r[1].pd, (uint32_t)r[2].pd);

  uint32_t combined = 0;
  for (int p = 0; p < NPROC; p++) {
    combined ^= expected_sum[p];
    const uint32_t want = FLAG_INFO_OK | FLAG_SHARED_OK | FLAG_DATA_OK;
    tap_ok(sh->posted[p] && sh->result[p] == expected_sum[p] && (sh->flags[p] & want) == want,
           "process %d: checksum 0x%08x (kernel 0x%08x), its info page named it, the shared page "
           "reached it, its data stayed its own (flags 0x%02x)",
           p, sh->result[p], expected_sum[p], sh->flags[p]);
  }

  int data_ok = distinct_frames(USER_DATA) && distinct_frames(USER_INFO);
  for (int p = 0; p < NPROC; p++)
    data_ok &= same_bytes((const uint8_t*)frame_of(r[p].pd, USER_DATA), expected_data[p]);
  tap_ok(data_ok,
         "private pages: 0x%08x and 0x%08x are different frames in each process, each data page "
         "holding its own process's bytes",
         USER_DATA, USER_INFO);

  tap_ok(all_flags(sh, FLAG_STACK_OK) && distinct_frames(USER_STACK_TOP - PAGE_SIZE),
         "the stack page is private after fork: every process's stack kept its own values "
         "across the switches");

  tap_ok(st.cow_copies == WANT_COPIES && st.cow_reuses == WANT_REUSES,
         "copy-on-write: writes to the %d pages shared by fork made %u copies (want %d) and gave "
         "%u back writable (want %d)",
         COW_PAGES, st.cow_copies, WANT_COPIES, st.cow_reuses, WANT_REUSES);

  int combined_ok = all_flags(sh, FLAG_ALL_POSTED);
  for (int p = 0; p < NPROC; p++) combined_ok &= sh->combined[p] == combined;
  uint32_t shared_frame = frame_of(r[0].pd, USER_SHARED);
  for (int p = 1; p < NPROC; p++) combined_ok &= frame_of(r[p].pd, USER_SHARED) == shared_frame;
  tap_ok(combined_ok,
         "shared page: one frame in all processes, every process saw all results (combined "
         "0x%08x: 0x%08x 0x%08x 0x%08x)",
         combined, sh->combined[0], sh->combined[1], sh->combined[2]);

  /* Informational: a fast host may finish a workload within one PIT period. */
  kprintf("# switched back in during the workload: %u, %u and %u times\n", sh->preempted_in_work[0],
          sh->preempted_in_work[1], sh->preempted_in_work[2]);
  int slices_ok = all_flags(sh, FLAG_SLICES_OK) && st.tick_switches > 0;
  for (int p = 0; p < NPROC; p++) slices_ok &= r[p].slices >= MIN_SLICES;
  tap_ok(slices_ok,
         "preemption: %u of %u ticks switched CR3; switched in %u, %u and %u times (want >= %d "
         "each)",
         st.tick_switches, st.ticks, r[0].slices, r[1].slices, r[2].slices, MIN_SLICES);

  int fault_ok = 1;
  for (int p = 0; p < NPROC; p++)
    fault_ok &= r[p].killed && r[p].fault_cr2 == (uint32_t)&kernel_secret &&
                r[p].fault_error == (PF_P | PF_U) && r[p].fault_eip - USER_CODE < proc_code_size();
  tap_ok(fault_ok && kernel_secret == 0x5ec2e7ed,
         "each process ended by #PF reading kernel memory at 0x%08x (errors %u %u %u, EIPs "
         "0x%08x 0x%08x 0x%08x): the kernel is supervisor-only in every address space",
         (uint32_t)&kernel_secret, r[0].fault_error, r[1].fault_error, r[2].fault_error,
         r[0].fault_eip, r[1].fault_eip, r[2].fault_eip);
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  (void)mbi;
  protected_init();
  syscall_init();
  tap_plan(NPROC + 7);

  /* The kernel computes what each process should: the same functions, run in ring 0. */
  for (int p = 0; p < NPROC; p++) {
    data_fill(expected_data[p]);
    data_personalize(expected_data[p], (uint32_t)p);
    expected_sum[p] = workload(expected_data[p], (uint32_t)p);
  }

  volatile pte_t* kernel_pd = setup_kernel_space();
  proc_setup(*pde_get(kernel_pd, 0), (uint32_t)&kernel_secret);
  kprintf("# user program: %u bytes at 0x%08x, copied to 0x%08x\n", proc_code_size(),
          (uint32_t)__start_user_prog, USER_CODE);
  proc_run_all(TIMER_HZ);
  write_cr3((uint32_t)kernel_pd);
  check_results();
  kprintf("# %u pool pages used\n", page_pool_used());
  tap_done();
}
