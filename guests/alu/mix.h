/* Checksums and operand generation shared by the alu sections. */
#ifndef BT86_ALU_MIX_H
#define BT86_ALU_MIX_H

#include <stdint.h>

/* Order-sensitive and avalanching, so a wrong bit anywhere changes the section's line. */
static inline uint32_t mix(uint32_t h, uint32_t v) {
  h ^= v;
  h *= 0x01000193u;
  return h ^ (h >> 13);
}

/* The Numerical Recipes LCG; only the high halves are used because low bits have short periods. */
static inline uint32_t lcg_next(uint32_t* state) {
  *state = *state * 1664525u + 1013904223u;
  return *state;
}

/* Operands: one in four comes from the edge values where flags and upper bytes go wrong
   (carries out of bit 7/15/31, sign changes, all-ones), the rest are random. */
static inline uint32_t pick(uint32_t* state) {
  static const uint32_t edges[] = {
      0x00000000u, 0x00000001u, 0x0000007fu, 0x00000080u, 0x000000ffu, 0x00000100u,
      0x00007fffu, 0x00008000u, 0x0000ffffu, 0x00010000u, 0x7fffffffu, 0x80000000u,
      0xffffffffu, 0xfffffffeu, 0x80000001u, 0xffff7fffu, 0xffffff80u, 0x00ff00ffu,
  };
  uint32_t hi = lcg_next(state) >> 16;
  uint32_t lo = lcg_next(state) >> 16;
  uint32_t v = hi << 16 | lo;
  if ((hi >> 14) == 0) return edges[lo % (sizeof edges / sizeof edges[0])];
  return v;
}

#endif
