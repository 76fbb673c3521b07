/* The native reference for trapbench: the same loops on the host, as a 32-bit Linux program
   (int $0x80 is a real system call here: getppid, about the cheapest one). Best of REPEATS
   runs, as in the guest. */
#include <stdint.h>
#include <stdio.h>

enum {
  ITERATIONS = 20000,
  REPEATS = 5,
  NR_GETPPID_I386 = 64,
};

static inline uint64_t rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (uint64_t)hi << 32 | lo;
}

static uint32_t getppid_loop(void) {
  uint32_t all = 0;
  for (int i = 0; i < ITERATIONS; i++) {
    uint32_t ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(NR_GETPPID_I386) : "memory");
    all |= ret;
  }
  return all;
}

static uint32_t cpuid_loop(void) {
  for (int i = 0; i < ITERATIONS; i++) {
    uint32_t a = 0, b, c = 0, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
  }
  return 1;
}

/* Prints the best of REPEATS timed runs; fails if the loop reports an error (0 or < 0). */
static int measure(const char* name, uint32_t (*loop)(void)) {
  uint64_t best = UINT64_MAX;
  for (int r = 0; r < REPEATS; r++) {
    uint64_t t0 = rdtsc();
    uint32_t result = loop();
    uint64_t t = rdtsc() - t0;
    if (result == 0 || (int32_t)result < 0) {
      fprintf(stderr, "trapbench_native: %s failed (%d)\n", name, (int)result);
      return 0;
    }
    if (t < best) best = t;
  }
  printf("trapbench.%s: %llu\n", name, (unsigned long long)(best / ITERATIONS));
  return 1;
}

int main(void) {
  printf("# %d iterations, best of %d runs, cycles per operation\n", ITERATIONS, REPEATS);
  return measure("int80", getppid_loop) && measure("cpuid_user", cpuid_loop) ? 0 : 1;
}
