/* The #PF handler: records CR2, the error code and the saved CS:EIP, then lets the armed fixer
   repair the mapping so the faulting instruction runs again. A fault nobody expected, or more
   faults than any check needs (a fix that does not take effect), stops the guest instead of
   looping. */
#include <stdint.h>

#include "desc.h"
#include "exit.h"
#include "idt.h"
#include "kprintf.h"
#include "paging_guest.h"
#include "user.h"

enum {
  PF_LOG_MAX = 16,
  EXIT_UNEXPECTED_PF = 2,
  USER_ARGS = 16, /* bytes below the stack page's end for user_access's arguments */
};

static volatile uint32_t count;
static volatile struct pf_record records[PF_LOG_MAX];
static pf_fixer fixer;
static volatile pte_t* fix_entry;
static pte_t fix_value;

/* user_access's stack: alone in its page, which setup makes user accessible. */
static uint8_t user_stack[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static void on_page_fault(struct trap_frame* f) {
  /* Before anything that could fault again and overwrite it. */
  uint32_t cr2 = read_cr2();
  uint32_t n = count++;
  if (n < PF_LOG_MAX) {
    records[n].cr2 = cr2;
    records[n].error = f->error;
    records[n].eip = f->eip;
    records[n].cs = f->cs & 0xffff;
  }
  if (n >= PF_LOG_MAX || !fixer || !fixer(cr2, f->error)) {
    kprintf("Bail out! unexpected #PF: cr2 0x%08x error %u at %04x:%08x (%u since armed)\n", cr2,
            f->error, f->cs & 0xffff, f->eip, n + 1);
    guest_exit(EXIT_UNEXPECTED_PF);
  }
}

static int fix_one_entry(uint32_t cr2, uint32_t error) {
  (void)error;
  if (!fix_entry) return 0;
  *fix_entry = fix_value;
  fix_entry = 0;
  /* Also covers a changed PDE: invlpg drops the paging-structure caches as well. */
  invlpg(cr2);
  return 1;
}

void pf_init(void) {
  trap_register(VEC_PF, on_page_fault);
}

void pf_arm(pf_fixer fix) {
  count = 0;
  fixer = fix;
}

void pf_arm_entry(volatile pte_t* entry, pte_t value) {
  fix_entry = entry;
  fix_value = value;
  pf_arm(fix_one_entry);
}

uint32_t pf_count(void) {
  return count;
}

struct pf_record pf_last(void) {
  struct pf_record r = {0, 0, 0, 0};
  uint32_t n = count;
  if (n > 0 && n <= PF_LOG_MAX) {
    r.cr2 = records[n - 1].cr2;
    r.error = records[n - 1].error;
    r.eip = records[n - 1].eip;
    r.cs = records[n - 1].cs;
  }
  return r;
}

int pf_expect(uint32_t cr2, uint32_t error, const void* eip, uint32_t cs) {
  struct pf_record r = pf_last();
  uint32_t n = count;
  int ok = n == 1 && r.cr2 == cr2 && r.error == error && r.eip == (uint32_t)eip && r.cs == cs;
  if (!ok)
    kprintf(
        "# expected one #PF cr2 0x%08x error %u at %04x:%08x; saw %u, the last cr2 0x%08x "
        "error %u at %04x:%08x\n",
        cr2, error, cs, (uint32_t)eip, n, r.cr2, r.error, r.cs, r.eip);
  return ok;
}

static uint32_t user_access_run(uint32_t op, uint32_t linear, uint32_t value, uint32_t eflags) {
  /* user_run puts the return address just below stack_top: the arguments sit above it. */
  uint32_t* args = (uint32_t*)(user_stack + PAGE_SIZE - USER_ARGS);
  args[0] = op;
  args[1] = linear;
  args[2] = value;
  return user_run(user_access, args, eflags);
}

/* IF = 1: the watchdog covers ring 3 too. */
uint32_t user_read(uint32_t linear) {
  return user_access_run(0, linear, 0, EFLAGS_IF);
}

void user_write(uint32_t linear, uint32_t value) {
  user_access_run(1, linear, value, EFLAGS_IF);
}

uint32_t user_read_if0(uint32_t linear) {
  return user_access_run(0, linear, 0, 0);
}

void open_user_pages(volatile pte_t* pd) {
  *pte_get(pd, (uint32_t)user_stack) |= PTE_US;
  *pte_get(pd, (uint32_t)user_access) |= PTE_US;
}

uint32_t marked_page(uint32_t marker) {
  uint32_t* page = page_alloc();
  for (uint32_t i = 0; i < PAGE_SIZE / 4; i++) page[i] = marker;
  return (uint32_t)page;
}
