/* What the processes guest's kernel (main.c, proc.c) and its ring-3 program (user.c) agree on:
   the user address space, the shared page, the system calls. */
#ifndef BT86_PROCESSES_H
#define BT86_PROCESSES_H

#include <stdint.h>

#include "paging.h"
#include "syscall.h"

#define NPROC 3
/* Each process must be switched in at least this often by the time it finishes. */
#define MIN_SLICES 3

/* The user half of every address space: one page table under one PDE. */
#define USER_BASE 0x40000000u
#define USER_CODE USER_BASE        /* the program, read-only, the same frames everywhere */
#define USER_SHARED 0x40100000u    /* writable and shared by all */
#define USER_DATA 0x40200000u      /* private: copy-on-write after fork */
#define USER_INFO 0x40201000u      /* private: made by the kernel for each process */
#define USER_STACK_TOP 0x40400000u /* one private page below, copy-on-write after fork */

/* OS bits of the user PTEs. */
#define PTE_COW PTE_AVL(1)    /* read-only until written: then copied, or made writable */
#define PTE_SHARED PTE_AVL(2) /* fork keeps it writable and shared */

/* With SYS_EXIT (code), which ends the process. */
#define SYS_FORK SYS_FIRST_FREE /* (): the child's pid to the parent, 0 to the child */
#define FORK_FAILED 0xffffffffu

#define SHARED_MAGIC 0x5ba7ed00u
#define INFO_MAGIC 0x1f0c0de0u
#define EXIT_SURVIVED 0xbad /* a process whose read of kernel memory did not fault */

/* What each process reports, bit by bit, in shared_page.flags. */
enum {
  FLAG_INFO_OK = 1,    /* its info page named it */
  FLAG_SHARED_OK = 2,  /* it saw the kernel's magic in the shared page */
  FLAG_STACK_OK = 4,   /* its stack kept its own values across the waits */
  FLAG_ALL_POSTED = 8, /* it saw every process's result */
  FLAG_SLICES_OK = 16, /* it saw itself switched in MIN_SLICES times */
  FLAG_DATA_OK = 32,   /* its private data page still held its own data at the end */
};

struct shared_page {
  uint32_t magic;
  uint32_t kernel_probe;  /* a kernel address every process finally tries to read */
  uint32_t slices[NPROC]; /* kept by the kernel: how often each process was switched in */
  uint32_t posted[NPROC]; /* the rest by the processes */
  uint32_t result[NPROC];
  uint32_t combined[NPROC];
  uint32_t flags[NPROC];
  uint32_t preempted_in_work[NPROC]; /* how often it was switched back in during workload() */
};

struct info_page {
  uint32_t magic;
  uint32_t pid;
};

/* user.c: the program, in section user_prog, which the kernel copies to USER_CODE. It must stay
   position independent: no data of its own, no calls out of the section, no jump tables. */
void user_main(void);
/* The data page before fork, and after process `me` has made it its own. */
void data_fill(uint8_t* page);
void data_personalize(uint8_t* page, uint32_t me);
/* The checksum workload over a page. */
uint32_t workload(const uint8_t* page, uint32_t me);
extern const char __start_user_prog[], __stop_user_prog[];

/* proc.c */
struct proc_stats {
  uint32_t forks, ticks, tick_switches, cow_copies, cow_reuses;
};
struct proc_result {
  volatile pte_t* pd;
  uint32_t slices;
  int killed; /* by a page fault */
  uint32_t exit_code, fault_cr2, fault_error, fault_eip;
};
/* Builds process 0 (code, shared, data, info and stack pages) over the kernel's identity map
   `kernel_pde`; `probe` is the kernel address the processes try to read at the end. */
void proc_setup(pte_t kernel_pde, uint32_t probe);
/* Runs process 0 in ring 3 with the timer on until every process has ended. */
void proc_run_all(uint32_t timer_hz);
int proc_count(void);
struct proc_result proc_result(int pid);
struct proc_stats proc_stats(void);
volatile struct shared_page* proc_shared(void); /* the kernel's view (identity map) */
uint32_t proc_code_size(void);

#endif
