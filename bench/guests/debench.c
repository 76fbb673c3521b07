/* The cost of what directly executed ring-3 code needs the monitor for (issue 12 item 8), with
   every ring-3 loop run with IF = 1 and IOPL 0 — the state in which a VMM with direct execution
   runs user code on the host CPU — on a page of its own that holds nothing a VMM must
   translate (no cpuid, syscall, sysenter, wrpkru, xrstor bytes). Rows (one per command-line
   word; all of them without one):

     int80       a null `int 0x80` round trip: ring 3 -> raw gate (nothing but iret) -> ring 3
     int80_super the same round trip whose handler reads SUPER_PAGES supervisor-only pages
                 (what hiding the kernel's pages from ring 3 costs at every kernel entry)
     pf_user     a ring-3 write to a not-present page; the #PF handler maps it (and unmaps the
                 other page with invlpg), iret, the write is retried
     cr3_switch  ring 3 -> `int 0x80` whose handler loads CR3 with the other of two directories
                 -> iret -> ring 3 reads a page mapped to a different frame in each (checked)
     compute     de_compute (de_compute.h) in ring 3: no exit at all; debench_native runs the
                 same loop as a Linux program

   Each loop is timed with rdtsc, best of REPEATS runs. Output: `debench.<row>: <TSC cycles per
   operation>` (compute: per 1000 iterations), and `debench.<row>_ops: <n>`, the number of times
   that row's ring-3 code had to leave for the kernel in all runs (iterations x runs; compute:
   the runs), which run_debench.sh compares with the direct-execution exits in --stats=json to
   make sure the row really ran directly. Every loop checks its result; a wrong one is a
   "Bail out!" and exit status 4. */
#include <stdint.h>

#include "cmdline.h"
#include "de_compute.h"
#include "desc.h"
#include "exit.h"
#include "idt.h"
#include "kprintf.h"
#include "multiboot.h"
#include "paging.h"
#include "protected_init.h"
#include "user.h"

enum {
  INT80_ITERATIONS = 2000,
  PF_ITERATIONS = 1000,
  CR3_ITERATIONS = 1000,
  COMPUTE_ITERATIONS = 4000000,
  REPEATS = 5,
  SYSCALL_VECTOR = 0x80,
  EXIT_VECTOR = 0x81, /* ends a ring-3 loop through the dispatcher */
  USER_STACK_SIZE = 0x4000,
  EXIT_WRONG = 4,
};

/* Linear addresses, each in a page table of its own, above the 4 MiB identity map. */
#define PF_PAGE0 0x40000000u   /* pf_user alternates between this page and the next */
#define CR3_PAGE 0x40800000u   /* cr3_switch: a different frame in each directory */
#define CR3_TAG 0xc0000000u    /* the word at CR3_PAGE: CR3_TAG + the directory's index */
#define SUPER_BASE 0x40c00000u /* int80_super: SUPER_PAGES supervisor-only pages */
#define SUPER_PAGES 4
#define SUPER_TAG 0x5000u /* the word at the start of supervisor page i: SUPER_TAG + i */

/* Shared with the ring-3 code (user accessible: the identity map is US). */
volatile uint64_t cycles;
volatile uint32_t user_bad;  /* cr3_switch: non-zero if a read saw the wrong directory */
volatile uint32_t user_hash; /* compute: de_compute's result */
uint32_t compute_table[DE_COMPUTE_TABLE_WORDS];

/* cr3_switch: the two directories and the index of the one in CR3, for the raw gate below. */
uint32_t cr3_dirs[2];
uint32_t cr3_index;
uint32_t super_sum; /* int80_super: the sum of the words the handler read */

static volatile pte_t* kernel_pd;
static volatile pte_t* pf_pte[2];
static uint32_t pf_frame[2];
static volatile uint32_t pf_faults;

static __attribute__((noreturn)) void wrong(const char* what, uint32_t a, uint32_t b) {
  kprintf("Bail out! debench: %s (0x%08x, 0x%08x)\n", what, a, b);
  guest_exit(EXIT_WRONG);
}

/* The raw gates (no dispatcher: the minimum a kernel can do). int80: nothing but iret.
   cr3_switch: load the other directory. Both run with the user's data segments, which are
   flat like the kernel's. */
void null_iret(void);
void cr3_flip(void);
void super_read(void);
_Static_assert(SUPER_BASE == 0x40c00000u && SUPER_PAGES == 4, "super_read below");
__asm__(
    ".text\n"
    ".globl null_iret\n"
    "null_iret:\n"
    "  iret\n"
    ".globl super_read\n"
    "super_read:\n"
    "  push %eax\n"
    "  mov 0x40c00000, %eax\n"
    "  add 0x40c01000, %eax\n"
    "  add 0x40c02000, %eax\n"
    "  add 0x40c03000, %eax\n"
    "  add %eax, super_sum\n"
    "  pop %eax\n"
    "  iret\n"
    ".globl cr3_flip\n"
    "cr3_flip:\n"
    "  push %eax\n"
    "  mov cr3_index, %eax\n"
    "  xor $1, %eax\n"
    "  mov %eax, cr3_index\n"
    "  mov cr3_dirs(,%eax,4), %eax\n"
    "  mov %eax, %cr3\n"
    "  pop %eax\n"
    "  iret\n");

/* The ring-3 code, alone on its pages. Each loop ends with int $0x81, which the dispatcher
   turns into user_return(). */
void user_int80(void);
void user_pf(void);
void user_cr3(void);
void user_compute(void);
_Static_assert(INT80_ITERATIONS == 2000 && PF_ITERATIONS == 1000 && CR3_ITERATIONS == 1000 &&
                   COMPUTE_ITERATIONS == 4000000 && SYSCALL_VECTOR == 0x80 && EXIT_VECTOR == 0x81 &&
                   PF_PAGE0 == 0x40000000u && CR3_PAGE == 0x40800000u && CR3_TAG == 0xc0000000u,
               "the constants in the asm below");
__asm__(
    ".text\n"
    ".p2align 12\n"
    "user_code_start:\n"
    /* t0 in edi:esi; cycles = rdtsc - t0 */
    ".macro t_start\n"
    "  rdtsc\n"
    "  mov %eax, %esi\n"
    "  mov %edx, %edi\n"
    ".endm\n"
    ".macro t_stop\n"
    "  rdtsc\n"
    "  sub %esi, %eax\n"
    "  sbb %edi, %edx\n"
    "  mov %eax, cycles\n"
    "  mov %edx, cycles + 4\n"
    ".endm\n"

    ".globl user_int80\n"
    "user_int80:\n"
    "  t_start\n"
    "  mov $2000, %ecx\n"
    "1: int $0x80\n"
    "  dec %ecx\n"
    "  jnz 1b\n"
    "  t_stop\n"
    "  int $0x81\n"

    /* Writes PF_PAGE0 + (i & 1) * 4 KiB = i, for i in [0, 1000). */
    ".globl user_pf\n"
    "user_pf:\n"
    "  t_start\n"
    "  xor %ecx, %ecx\n"
    "1: mov %ecx, %eax\n"
    "  and $1, %eax\n"
    "  shl $12, %eax\n"
    "  mov %ecx, 0x40000000(%eax)\n"
    "  inc %ecx\n"
    "  cmp $1000, %ecx\n"
    "  jne 1b\n"
    "  t_stop\n"
    "  int $0x81\n"

    /* ebp: the tag the read must see after the switch; ebx: every difference seen. */
    ".globl user_cr3\n"
    "user_cr3:\n"
    "  t_start\n"
    "  mov $1000, %ecx\n"
    "  xor %ebx, %ebx\n"
    "  mov $0xc0000000, %ebp\n"
    "1: xor $1, %ebp\n"
    "  int $0x80\n"
    "  mov 0x40800000, %eax\n"
    "  xor %ebp, %eax\n"
    "  or %eax, %ebx\n"
    "  dec %ecx\n"
    "  jnz 1b\n"
    "  t_stop\n"
    "  mov %ebx, user_bad\n"
    "  int $0x81\n"

    ".globl user_compute\n"
    "user_compute:\n"
    "  t_start\n"
    "  push $4000000\n"
    "  push $compute_table\n"
    "  call de_compute\n"
    "  add $8, %esp\n"
    "  mov %eax, user_hash\n"
    "  t_stop\n"
    "  int $0x81\n"

    DE_COMPUTE_ASM
    ".p2align 12\n"
    "user_code_end:\n");

static void on_exit(struct trap_frame* f) {
  (void)f;
  user_return(0);
}

/* pf_user: maps the faulting page, unmaps the other one (as pagebench's pf_user). */
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

static uint8_t user_stack[USER_STACK_SIZE] __attribute__((aligned(16)));

static void run_user(void (*entry)(void)) {
  /* IF = 1, IOPL 0: the state direct execution needs. No interrupt source is unmasked. */
  user_run(entry, user_stack + sizeof user_stack, EFLAGS_IF);
}

static uint64_t run_int80(void) {
  idt_set_raw_gate(SYSCALL_VECTOR, null_iret, GATE_INTERRUPT, 3);
  run_user(user_int80);
  return cycles;
}

static uint64_t run_int80_super(void) {
  idt_set_raw_gate(SYSCALL_VECTOR, super_read, GATE_INTERRUPT, 3);
  super_sum = 0;
  run_user(user_int80);
  uint32_t want = 0;
  for (uint32_t i = 0; i < SUPER_PAGES; i++) want += SUPER_TAG + i;
  if (super_sum != want * INT80_ITERATIONS)
    wrong("int80_super: the handler read the wrong words", super_sum, want * INT80_ITERATIONS);
  return cycles;
}

static uint64_t run_pf(void) {
  for (int i = 0; i < 2; i++) {
    *pf_pte[i] = 0;
    invlpg(PF_PAGE0 + (uint32_t)i * PAGE_SIZE);
  }
  pf_faults = 0;
  run_user(user_pf);
  if (pf_faults != PF_ITERATIONS) wrong("pf_user: faults != iterations", pf_faults, PF_ITERATIONS);
  uint32_t last0 = *(volatile uint32_t*)pf_frame[0], last1 = *(volatile uint32_t*)pf_frame[1];
  if (last0 != PF_ITERATIONS - 2 || last1 != PF_ITERATIONS - 1)
    wrong("pf_user: the writes did not reach their frames", last0, last1);
  return cycles;
}

static uint64_t run_cr3(void) {
  idt_set_raw_gate(SYSCALL_VECTOR, cr3_flip, GATE_INTERRUPT, 3);
  user_bad = 0;
  run_user(user_cr3);
  /* An even number of switches ends in the kernel's own directory. */
  if (cr3_index != 0 || read_cr3() != cr3_dirs[0])
    wrong("cr3_switch: ended in the wrong directory", cr3_index, read_cr3());
  if (user_bad) wrong("cr3_switch: ring 3 read through the wrong directory", user_bad, 0);
  return cycles;
}

static uint64_t run_compute(void) {
  static uint32_t first_hash;
  de_compute_init(compute_table);
  run_user(user_compute);
  if (!first_hash) first_hash = user_hash;
  if (user_hash != first_hash) wrong("compute: a different result", user_hash, first_hash);
  return cycles;
}

static void setup(void) {
  kernel_pd = pd_create();
  /* The kernel image (ring-3 code, its data and stack included), global and user accessible.
     Page 0 stays unmapped. */
  map_range(kernel_pd, PAGE_SIZE, PAGE_SIZE, LARGE_PAGE_SIZE - PAGE_SIZE, PTE_RW | PTE_US | PTE_G);
  for (int i = 0; i < 2; i++) {
    uint32_t linear = PF_PAGE0 + (uint32_t)i * PAGE_SIZE;
    pf_frame[i] = (uint32_t)page_alloc();
    map_page(kernel_pd, linear, pf_frame[i], PTE_RW | PTE_US);
    pf_pte[i] = pte_get(kernel_pd, linear);
    *pf_pte[i] = 0;
  }
  /* cr3_switch: a second directory sharing every table but CR3_PAGE's. */
  uint32_t frame[2];
  for (int i = 0; i < 2; i++) {
    frame[i] = (uint32_t)page_alloc();
    *(volatile uint32_t*)frame[i] = CR3_TAG + (uint32_t)i;
  }
  map_page(kernel_pd, CR3_PAGE, frame[0], PTE_RW | PTE_US);
  volatile pte_t* other = pd_create();
  for (uint32_t i = 0; i < PAGE_SIZE / sizeof(pte_t); i++) other[i] = kernel_pd[i];
  other[PD_INDEX(CR3_PAGE)] = 0;
  map_page(other, CR3_PAGE, frame[1], PTE_RW | PTE_US);
  /* int80_super: supervisor only, not global (as a kernel's per-process pages). */
  for (uint32_t i = 0; i < SUPER_PAGES; i++) {
    uint32_t f = (uint32_t)page_alloc();
    *(volatile uint32_t*)f = SUPER_TAG + i;
    map_page(kernel_pd, SUPER_BASE + i * PAGE_SIZE, f, PTE_RW);
  }
  cr3_dirs[0] = (uint32_t)kernel_pd;
  cr3_dirs[1] = (uint32_t)other;
  cr3_index = 0;
  paging_enable(kernel_pd, CR4_PGE);
}

struct row {
  const char* name;
  uint64_t (*run)(void);
  uint32_t per_run; /* operations per run: the divisor */
  uint32_t exits;   /* exits to the kernel per run */
};

static const struct row rows[] = {
    {"int80", run_int80, INT80_ITERATIONS, INT80_ITERATIONS},
    {"int80_super", run_int80_super, INT80_ITERATIONS, INT80_ITERATIONS},
    {"pf_user", run_pf, PF_ITERATIONS, PF_ITERATIONS},
    {"cr3_switch", run_cr3, CR3_ITERATIONS, CR3_ITERATIONS},
    {"compute", run_compute, COMPUTE_ITERATIONS / 1000, 1},
};

static void measure(const struct row* r) {
  uint64_t best = UINT64_MAX;
  for (int i = 0; i < REPEATS; i++) {
    uint64_t t = r->run();
    if (t < best) best = t;
  }
  kprintf("debench.%s: %llu\n", r->name, best / r->per_run);
  kprintf("debench.%s_ops: %u\n", r->name, r->exits * REPEATS);
  if (r->run == run_compute) kprintf("debench.compute_hash: %u\n", user_hash);
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  protected_init();
  idt_set_gate(EXIT_VECTOR, GATE_INTERRUPT, 3);
  trap_register(EXIT_VECTOR, on_exit);
  trap_register(VEC_PF, on_page_fault);
  setup();
  int any = 0;
  for (unsigned i = 0; i < sizeof rows / sizeof rows[0]; i++)
    any |= cmdline_has_word(mbi, rows[i].name);
  kprintf("# best of %d runs, TSC cycles per operation (compute: per 1000 iterations)\n", REPEATS);
  for (unsigned i = 0; i < sizeof rows / sizeof rows[0]; i++)
    if (!any || cmdline_has_word(mbi, rows[i].name)) measure(&rows[i]);
  return 0;
}
