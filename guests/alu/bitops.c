/* bt/bts/btr/btc with register and immediate bit numbers, on registers and on memory
   (where a register bit number addresses a bit string beyond the operand, also backwards);
   bsf/bsr. */
#include "alu.h"
#include "flags.h"
#include "mix.h"

enum { ITERATIONS = 3000, BITS_WORDS = 16 };

/* Only CF is defined after bt*; SF, OF, AF and PF are undefined and ZF varies by CPU. */
#define BT_REG(op, T, rc, imm)                  \
  do {                                          \
    T d = (T)a, n = (T)b;                       \
    uint32_t f;                                 \
    __asm__(FLAGS_IN op " %[n], %[d]" FLAGS_OUT \
            : [d] "+r"(d), [fo] "=&r"(f)        \
            : [n] "r"(n), [fi] "r"(fin)         \
            : "cc");                            \
    h = mix(mix(h, d), f & F_CF);               \
    d = (T)b;                                   \
    __asm__(FLAGS_IN op " %[n], %[d]" FLAGS_OUT \
            : [d] "+r"(d), [fo] "=&r"(f)        \
            : [n] "i"(imm), [fi] "r"(fin)       \
            : "cc");                            \
    h = mix(mix(h, d), f & F_CF);               \
    d = (T)a;                                   \
    __asm__(FLAGS_IN op " %[n], %[d]" FLAGS_OUT \
            : [d] "+m"(d), [fo] "=&r"(f)        \
            : [n] "i"(imm), [fi] "r"(fin)       \
            : "cc");                            \
    h = mix(mix(h, d), f & F_CF);               \
  } while (0)

/* Bit-string form: `base` points into the middle of `bits`, the bit number is signed. */
#define BT_STRING(op, T, sfx)                                   \
  do {                                                          \
    T n = (T)offset;                                            \
    uint32_t f;                                                 \
    __asm__ volatile(FLAGS_IN op sfx " %[n], (%[p])" FLAGS_OUT  \
                     : [fo] "=&r"(f)                            \
                     : [n] "r"(n), [p] "r"(base), [fi] "r"(fin) \
                     : "cc", "memory");                         \
    h = mix(h, f & F_CF);                                       \
  } while (0)

#define BT_ALL(op)                                       \
  do {                                                   \
    BT_REG(op "w", uint16_t, "r", 13);                   \
    BT_REG(op "l", uint32_t, "r", 27);                   \
    BT_REG(op "l", uint32_t, "r", 37); /* masked to 5 */ \
    BT_STRING(op, uint16_t, "w");                        \
    BT_STRING(op, uint32_t, "l");                        \
  } while (0)

/* bsf/bsr leave the destination undefined for a zero source; only ZF is defined. */
#define BITSCAN(op, T)                          \
  do {                                          \
    T s = (T)(a & b), d = 0;                    \
    uint32_t f;                                 \
    __asm__(FLAGS_IN op " %[s], %[d]" FLAGS_OUT \
            : [d] "+r"(d), [fo] "=&r"(f)        \
            : [s] "r"(s), [fi] "r"(fin)         \
            : "cc");                            \
    h = mix(mix(h, s ? d : 0xdead), f & F_ZF);  \
    s = (T)(a >> (b & 31));                     \
    d = 0;                                      \
    __asm__(FLAGS_IN op " %[s], %[d]" FLAGS_OUT \
            : [d] "+r"(d), [fo] "=&r"(f)        \
            : [s] "m"(s), [fi] "r"(fin)         \
            : "cc");                            \
    h = mix(mix(h, s ? d : 0xdead), f & F_ZF);  \
  } while (0)

uint32_t alu_bitops(void) {
  uint32_t h = 0x6269746fu, seed = 0x3579bdfu;
  uint32_t bits[BITS_WORDS];
  for (int i = 0; i < BITS_WORDS; i++) bits[i] = pick(&seed);
  uint32_t* base = bits + BITS_WORDS / 2;
  for (int i = 0; i < ITERATIONS; i++) {
    uint32_t a = pick(&seed), b = pick(&seed);
    uint32_t fin = pick(&seed) & F_ARITH;
    /* A bit number within +-(BITS_WORDS/2 * 32) of base, so the access stays in bits[]. */
    int32_t offset = (int32_t)(a % (BITS_WORDS * 32)) - BITS_WORDS * 16;
    BT_ALL("bt");
    BT_ALL("bts");
    BT_ALL("btr");
    BT_ALL("btc");
    BITSCAN("bsfw", uint16_t);
    BITSCAN("bsfl", uint32_t);
    BITSCAN("bsrw", uint16_t);
    BITSCAN("bsrl", uint32_t);
  }
  for (int i = 0; i < BITS_WORDS; i++) h = mix(h, bits[i]);
  return h;
}
