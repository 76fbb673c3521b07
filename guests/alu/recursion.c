/* Deep and branchy recursion: Ackermann, Fibonacci, mutual recursion, recursive quicksort. */
#include "alu.h"
#include "mix.h"

/* External so gcc keeps real calls (it may still turn some tail calls into jumps). */
uint32_t alu_ackermann(uint32_t m, uint32_t n);
uint32_t alu_fib(uint32_t n);
uint32_t alu_is_even(uint32_t n);
uint32_t alu_is_odd(uint32_t n);

uint32_t alu_ackermann(uint32_t m, uint32_t n) {
  if (m == 0) return n + 1;
  if (n == 0) return alu_ackermann(m - 1, 1);
  return alu_ackermann(m - 1, alu_ackermann(m, n - 1));
}

uint32_t alu_fib(uint32_t n) {
  return n < 2 ? n : alu_fib(n - 1) + alu_fib(n - 2);
}

uint32_t alu_is_even(uint32_t n) {
  return n == 0 ? 1 : alu_is_odd(n - 1);
}
uint32_t alu_is_odd(uint32_t n) {
  return n == 0 ? 0 : alu_is_even(n - 1);
}

static void quicksort(int32_t* v, int lo, int hi) {
  if (lo >= hi) return;
  int32_t pivot = v[(lo + hi) / 2];
  int i = lo, j = hi;
  while (i <= j) {
    while (v[i] < pivot) i++;
    while (v[j] > pivot) j--;
    if (i <= j) {
      int32_t t = v[i];
      v[i++] = v[j];
      v[j--] = t;
    }
  }
  quicksort(v, lo, j);
  quicksort(v, i, hi);
}

uint32_t alu_recursion(void) {
  uint32_t h = 0x72656375u, seed = 0xf13579bu;
  h = mix(h, alu_ackermann(2, 9));
  h = mix(h, alu_ackermann(3, 4));
  h = mix(h, alu_fib(22));
  for (uint32_t n = 0; n < 200; n += 7) h = mix(h, alu_is_even(n * 3));
  static int32_t values[1024];
  for (int round = 0; round < 4; round++) {
    for (int i = 0; i < 1024; i++) values[i] = (int32_t)pick(&seed) >> (round * 7);
    quicksort(values, 0, 1023);
    for (int i = 0; i < 1024; i += 16) h = mix(h, (uint32_t)values[i]);
  }
  return h;
}
