/* The ring-3 program. Process 0 fills its data page and forks twice; then each process makes
   the data page and its stack its own (copy-on-write faults), runs the checksum workload,
   posts the result in the shared page, waits until every process has posted and it has itself
   been switched in MIN_SLICES times (both need a preempting timer), combines the results, and
   finally reads kernel memory, which must end it. Everything lives in section user_prog, which
   the kernel copies to USER_CODE: no static data, string constants, jump tables or calls out of
   the section (the system calls are inline). */
#include "processes.h"

#define USER __attribute__((section("user_prog")))

enum {
  WORK_ROUNDS = 256, /* several PIT periods under QEMU: preempted mid-computation */
  STACK_MARKS = 64,
  WAIT_CAP = 400000000, /* far more than waiting for the others needs; a dead timer ends it */
};

static inline __attribute__((always_inline)) uint32_t u_syscall(uint32_t nr, uint32_t arg) {
  uint32_t ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(arg) : "memory");
  return ret;
}

USER void data_fill(uint8_t* page) {
  for (uint32_t i = 0; i < PAGE_SIZE; i++) page[i] = (uint8_t)(i * 31 + 7);
}

USER void data_personalize(uint8_t* page, uint32_t me) {
  for (uint32_t i = 0; i < PAGE_SIZE; i++) page[i] ^= (uint8_t)((me + 1) * 0x5b + i);
}

/* Adler-32 and FNV-1a over the page, several rounds: a division per byte. */
USER uint32_t workload(const uint8_t* page, uint32_t me) {
  uint32_t a = 1 + me, b = 0, h = 0x811c9dc5u ^ me;
  for (uint32_t r = 0; r < WORK_ROUNDS; r++)
    for (uint32_t i = 0; i < PAGE_SIZE; i++) {
      a = (a + page[i]) % 65521;
      b = (b + a) % 65521;
      h = (h ^ page[i]) * 16777619u;
    }
  return (b << 16 | a) ^ h;
}

USER static uint32_t stack_value(uint32_t me, uint32_t i) {
  return (me + 1) * 0x01000193u + i;
}

USER static int all_posted(volatile struct shared_page* sh) {
  for (uint32_t p = 0; p < NPROC; p++)
    if (!sh->posted[p]) return 0;
  return 1;
}

USER void user_main(void) {
  volatile struct shared_page* sh = (volatile struct shared_page*)USER_SHARED;
  uint8_t* data = (uint8_t*)USER_DATA;
  volatile struct info_page* info = (volatile struct info_page*)USER_INFO;

  data_fill(data);
  uint32_t me = 0;
  for (uint32_t k = 1; k < NPROC; k++)
    if (u_syscall(SYS_FORK, 0) == 0) {
      me = k;
      break;
    }

  uint32_t flags = 0;
  if (info->magic == INFO_MAGIC && info->pid == me) flags |= FLAG_INFO_OK;
  if (sh->magic == SHARED_MAGIC) flags |= FLAG_SHARED_OK;
  volatile uint32_t marks[STACK_MARKS];
  for (uint32_t i = 0; i < STACK_MARKS; i++) marks[i] = stack_value(me, i);
  data_personalize(data, me);

  uint32_t slices_before = sh->slices[me];
  uint32_t sum = workload(data, me);
  sh->preempted_in_work[me] = sh->slices[me] - slices_before;
  sh->result[me] = sum;
  sh->posted[me] = 1;
  for (uint32_t spins = 0; spins < WAIT_CAP; spins++)
    if (all_posted(sh) && sh->slices[me] >= MIN_SLICES) break;
  if (all_posted(sh)) flags |= FLAG_ALL_POSTED;
  if (sh->slices[me] >= MIN_SLICES) flags |= FLAG_SLICES_OK;

  uint32_t combined = 0;
  for (uint32_t p = 0; p < NPROC; p++) combined ^= sh->result[p];
  int stack_ok = 1;
  for (uint32_t i = 0; i < STACK_MARKS; i++) stack_ok &= marks[i] == stack_value(me, i);
  if (stack_ok) flags |= FLAG_STACK_OK;
  if (workload(data, me) == sum) flags |= FLAG_DATA_OK;
  sh->combined[me] = combined;
  sh->flags[me] = flags;

  /* The kernel is mapped in every address space, but supervisor only: this ends the process. */
  (void)*(volatile uint32_t*)sh->kernel_probe;
  u_syscall(SYS_EXIT, EXIT_SURVIVED);
  for (;;) {
  }
}
