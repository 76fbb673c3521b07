/* The process kernel: address spaces (the kernel's identity map shared, supervisor only and
   global, in every directory; a private user page table each), fork with copy-on-write, a
   round-robin scheduler on timer ticks that switches by loading CR3, and exit (also forced by
   a page fault the kernel cannot resolve, like a segmentation fault). The kernel itself is
   never preempted: every handler runs with IF = 0 and the CPU's ring-3 frame on the TSS stack,
   so a switch is "save this frame, load the other one and its CR3". */
#include <stdint.h>

#include "exit.h"
#include "idt.h"
#include "kprintf.h"
#include "pic.h"
#include "pit.h"
#include "processes.h"
#include "syscall.h"
#include "user.h"

enum {
  TIMER_IRQ = 0,
  EXIT_KERNEL_FAULT = 2,
  EXIT_WATCHDOG = 4,
  USER_PTES = 1024,
  /* Processes whose memory is mixed up (a write-protection fault that never came, say) may
     loop forever in ring 3: the tick that ends this period stops the guest. Below the test
     harness's timeout. */
  WATCHDOG_SECONDS = 30,
};

enum state { FREE, RUNNABLE, DONE };

struct proc {
  enum state state;
  volatile pte_t* pd;
  volatile pte_t* user_pt; /* the page table under USER_BASE */
  struct trap_frame frame; /* saved while not running */
  struct proc_result result;
};

static struct proc procs[NPROC];
static int nprocs, current;
static pte_t kernel_pde;
static struct proc_stats stats;
static volatile struct shared_page* shared;
static uint32_t code_size;
static uint32_t watchdog_ticks;
/* Sharers of each copy-on-write pool page. */
static uint8_t refs[PAGE_POOL_PAGES];

static void new_address_space(struct proc* p) {
  p->pd = pd_create();
  *pde_get(p->pd, 0) = kernel_pde;
  p->user_pt = page_alloc();
  *pde_get(p->pd, USER_BASE) = (uint32_t)p->user_pt | PTE_P | PTE_RW | PTE_US;
}

static void user_map(struct proc* p, uint32_t linear, uint32_t phys, uint32_t flags) {
  p->user_pt[PT_INDEX(linear)] = phys | flags | PTE_P | PTE_US;
}

static void give_info_page(struct proc* p, uint32_t pid) {
  struct info_page* info = page_alloc();
  info->magic = INFO_MAGIC;
  info->pid = pid;
  user_map(p, USER_INFO, (uint32_t)info, PTE_RW);
}

static void private_page(struct proc* p, uint32_t linear) {
  uint32_t page = (uint32_t)page_alloc();
  refs[page_pool_index(page)] = 1;
  user_map(p, linear, page, PTE_RW);
}

void proc_setup(pte_t identity_pde, uint32_t probe) {
  kernel_pde = identity_pde;
  struct proc* p = &procs[0];
  new_address_space(p);

  /* The program: copied once, mapped read-only into every process. */
  const char* src = __start_user_prog;
  code_size = (uint32_t)(__stop_user_prog - __start_user_prog);
  for (uint32_t off = 0; off < code_size; off += PAGE_SIZE) {
    char* page = page_alloc();
    for (uint32_t i = 0; i < PAGE_SIZE && off + i < code_size; i++) page[i] = src[off + i];
    user_map(p, USER_CODE + off, (uint32_t)page, 0);
  }

  struct shared_page* sh = page_alloc();
  sh->magic = SHARED_MAGIC;
  sh->kernel_probe = probe;
  shared = sh;
  user_map(p, USER_SHARED, (uint32_t)sh, PTE_RW | PTE_SHARED);

  private_page(p, USER_DATA);
  private_page(p, USER_STACK_TOP - PAGE_SIZE);
  give_info_page(p, 0);
  p->state = RUNNABLE;
  nprocs = 1;
}

/* The next runnable process after `from` in round-robin order (`from` itself last), or -1. */
static int pick_next(int from) {
  for (int k = 1; k <= nprocs; k++) {
    int i = (from + k) % nprocs;
    if (procs[i].state == RUNNABLE) return i;
  }
  return -1;
}

/* Makes `next` the running process: the handler's iret resumes its frame. */
static void load(struct trap_frame* f, int next) {
  struct proc* p = &procs[next];
  current = next;
  *f = p->frame;
  p->result.slices++;
  shared->slices[next] = p->result.slices;
  write_cr3((uint32_t)p->pd);
}

/* The current process has ended: run another, or return from proc_run_all's user_run. */
static void end_current(struct trap_frame* f) {
  procs[current].state = DONE;
  int next = pick_next(current);
  if (next < 0) user_return(0);
  load(f, next);
}

static void on_tick(struct trap_frame* f) {
  if (++stats.ticks > watchdog_ticks) {
    kprintf("Bail out! processes still running after %u ticks (process %d at %04x:%08x)\n",
            stats.ticks - 1, current, f->cs & 0xffff, f->eip);
    guest_exit(EXIT_WATCHDOG);
  }
  pic_eoi(TIMER_IRQ);
  if (!trap_from_user(f)) return;
  int next = pick_next(current);
  if (next < 0 || next == current) return;
  procs[current].frame = *f;
  load(f, next);
  stats.tick_switches++;
}

static uint32_t fork_current(const struct trap_frame* f) {
  if (nprocs == NPROC) return FORK_FAILED;
  struct proc* parent = &procs[current];
  uint32_t pid = (uint32_t)nprocs;
  struct proc* child = &procs[pid];
  new_address_space(child);
  for (uint32_t i = 0; i < USER_PTES; i++) {
    pte_t pte = parent->user_pt[i];
    uint32_t linear = USER_BASE + i * PAGE_SIZE;
    if (!(pte & PTE_P) || linear == USER_INFO) continue;
    if ((pte & PTE_RW) && !(pte & PTE_SHARED)) {
      /* Private and writable: both sides lose write access until one writes. */
      pte = (pte & ~PTE_RW) | PTE_COW;
      parent->user_pt[i] = pte;
      invlpg(linear);
    }
    if (pte & PTE_COW) refs[page_pool_index(pte & PTE_ADDR)]++;
    child->user_pt[i] = pte & ~(PTE_A | PTE_D);
  }
  give_info_page(child, pid);
  child->frame = *f;
  child->frame.eax = 0;
  child->state = RUNNABLE;
  nprocs++;
  stats.forks++;
  return pid;
}

/* A write to a copy-on-write page: the last sharer gets the page back writable, the others a
   copy. */
static void break_cow(volatile pte_t* pte, uint32_t linear) {
  uint32_t frame = *pte & PTE_ADDR;
  int index = page_pool_index(frame);
  if (refs[index] == 1) {
    *pte = (*pte | PTE_RW) & ~PTE_COW;
    stats.cow_reuses++;
  } else {
    uint8_t* copy = page_alloc();
    const uint8_t* from = (const uint8_t*)frame;
    for (uint32_t i = 0; i < PAGE_SIZE; i++) copy[i] = from[i];
    refs[index]--;
    refs[page_pool_index((uint32_t)copy)] = 1;
    *pte = (uint32_t)copy | PTE_P | PTE_RW | PTE_US;
    stats.cow_copies++;
  }
  invlpg(linear);
}

static void on_page_fault(struct trap_frame* f) {
  uint32_t cr2 = read_cr2();
  if (!trap_from_user(f)) {
    kprintf("Bail out! kernel #PF: cr2 0x%08x error %u at %08x\n", cr2, f->error, f->eip);
    guest_exit(EXIT_KERNEL_FAULT);
  }
  struct proc* p = &procs[current];
  if ((f->error & (PF_P | PF_W)) == (PF_P | PF_W)) {
    volatile pte_t* pte = pte_get(p->pd, cr2);
    if (pte && (*pte & PTE_COW)) {
      break_cow(pte, cr2 & PTE_ADDR);
      return;
    }
  }
  p->result.killed = 1;
  p->result.fault_cr2 = cr2;
  p->result.fault_error = f->error;
  p->result.fault_eip = f->eip;
  end_current(f);
}

static void on_syscall(struct trap_frame* f) {
  switch (f->eax) {
    case SYS_EXIT:
      procs[current].result.exit_code = f->ebx;
      end_current(f);
      break;
    case SYS_FORK:
      f->eax = fork_current(f);
      break;
    default:
      f->eax = SYS_ENOSYS;
  }
}

void proc_run_all(uint32_t timer_hz) {
  idt_set_gate(SYSCALL_VECTOR, GATE_INTERRUPT, 3);
  trap_register(SYSCALL_VECTOR, on_syscall);
  trap_register(VEC_PF, on_page_fault);
  idt_set_gate(PIC_MASTER_VECTOR + TIMER_IRQ, GATE_INTERRUPT, 0);
  trap_register(PIC_MASTER_VECTOR + TIMER_IRQ, on_tick);

  current = 0;
  procs[0].result.slices = 1;
  shared->slices[0] = 1;
  write_cr3((uint32_t)procs[0].pd);
  watchdog_ticks = timer_hz * WATCHDOG_SECONDS;
  pit_start(timer_hz, PIT_MODE_RATE);
  pic_unmask(TIMER_IRQ);
  uint32_t entry = USER_CODE + ((uint32_t)user_main - (uint32_t)__start_user_prog);
  user_run((void (*)(void))entry, (void*)USER_STACK_TOP, EFLAGS_IF);
  pic_mask(TIMER_IRQ);
}

int proc_count(void) {
  return nprocs;
}

struct proc_result proc_result(int pid) {
  struct proc_result r = procs[pid].result;
  r.pd = procs[pid].pd;
  return r;
}

struct proc_stats proc_stats(void) {
  return stats;
}

volatile struct shared_page* proc_shared(void) {
  return shared;
}

uint32_t proc_code_size(void) {
  return code_size;
}
