/* 64-bit arithmetic in C, which gcc lowers to 32-bit add/adc, sub/sbb, mul, shld/shrd,
   compare chains, and the libgcc helpers __udivdi3/__umoddi3/__divdi3/__moddi3. */
#include "alu.h"
#include "mix.h"

enum { ITERATIONS = 4000 };

static uint32_t fold(uint64_t v) {
  return (uint32_t)v ^ (uint32_t)(v >> 32) * 0x9e3779b9u;
}

uint32_t alu_int64(void) {
  uint32_t h = 0x69363400u, seed = 0x13579bdu;
  for (int i = 0; i < ITERATIONS; i++) {
    uint64_t a = (uint64_t)pick(&seed) << 32 | pick(&seed);
    uint64_t b = (uint64_t)pick(&seed) << 32 | pick(&seed);
    unsigned shift = pick(&seed) & 63;
    if (i & 1) b >>= pick(&seed) & 63; /* small divisors too */
    if (b == 0) b = 7;
    int64_t sa = (int64_t)a, sb = (int64_t)b;
    if (sb == -1 && sa == INT64_MIN) sa = 1; /* the one signed quotient that overflows */
    h = mix(h, fold(a + b));
    h = mix(h, fold(a - b));
    h = mix(h, fold(a * b));
    h = mix(h, fold((uint64_t)(uint32_t)a * (uint32_t)b));
    h = mix(h, fold((uint64_t)((int64_t)(int32_t)a * (int32_t)b)));
    h = mix(h, fold(a / b));
    h = mix(h, fold(a % b));
    h = mix(h, fold((uint64_t)(sa / sb)));
    h = mix(h, fold((uint64_t)(sa % sb)));
    h = mix(h, fold(a << shift));
    h = mix(h, fold(a >> shift));
    h = mix(h, fold((uint64_t)(sa >> shift)));
    h = mix(h, (a < b) | (a <= b) << 1 | (a == b) << 2 | (sa < sb) << 3 | (sa >= sb) << 4);
    h = mix(h, fold(-a) ^ fold(~b));
  }
  return h;
}
