/* The native reference for debench's compute row: de_compute (de_compute.h), the same
   instructions the guest runs in ring 3, as a 32-bit Linux program. Best of REPEATS runs, TSC
   cycles per 1000 iterations, and the hash, which must equal the guest's. */
#include <stdint.h>
#include <stdio.h>

#include "de_compute.h"

enum {
  COMPUTE_ITERATIONS = 4000000, /* as in debench.c */
  REPEATS = 5,
};

__asm__(".text\n" DE_COMPUTE_ASM);

static inline uint64_t rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (uint64_t)hi << 32 | lo;
}

int main(void) {
  static uint32_t table[DE_COMPUTE_TABLE_WORDS];
  uint64_t best = UINT64_MAX;
  uint32_t hash = 0;
  for (int r = 0; r < REPEATS; r++) {
    de_compute_init(table);
    uint64_t t0 = rdtsc();
    uint32_t h = de_compute(table, COMPUTE_ITERATIONS);
    uint64_t t = rdtsc() - t0;
    if (r > 0 && h != hash) {
      fprintf(stderr, "debench_native: a different result (%u, %u)\n", h, hash);
      return 1;
    }
    hash = h;
    if (t < best) best = t;
  }
  printf("# best of %d runs, TSC cycles per 1000 iterations\n", REPEATS);
  printf("debench.compute: %llu\n", (unsigned long long)(best / (COMPUTE_ITERATIONS / 1000)));
  printf("debench.compute_hash: %u\n", hash);
  return 0;
}
