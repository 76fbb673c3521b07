/* setcc, cmovcc and jcc for all sixteen conditions, from arbitrary input flags: setcc to a
   register and to memory, cmov 16/32-bit from register and memory, jcc short and near. */
#include "alu.h"
#include "flags.h"
#include "mix.h"

enum { ITERATIONS = 2500 };

/* A near jcc needs a target more than 127 bytes away. */
#define NEAR_GAP ".fill 130, 1, 0x90\n\t"

#define COND(cc)                                                                          \
  do {                                                                                    \
    uint8_t r8 = 0x55, m8 = 0xaa;                                                         \
    uint32_t d32 = a, t = 0;                                                              \
    uint16_t d16 = (uint16_t)b;                                                           \
    __asm__(FLAGS_IN "set" cc                                                             \
                     " %[r8]\n\t"                                                         \
                     "set" cc                                                             \
                     " %[m8]\n\t"                                                         \
                     "cmov" cc                                                            \
                     "l %[s32], %[d32]\n\t"                                               \
                     "cmov" cc                                                            \
                     "w %[m16], %[d16]\n\t"                                               \
                     "j" cc                                                               \
                     " 1f\n\t"                                                            \
                     "orl $1, %[t]\n"                                                     \
                     "1:\n\t"                                                             \
                     "j" cc                                                               \
                     " 2f\n\t"                                                            \
                     "orl $2, %[t]\n\t" NEAR_GAP "2:"                                     \
            : [r8] "=q"(r8), [m8] "=m"(m8), [d32] "+r"(d32), [d16] "+r"(d16), [t] "+r"(t) \
            : [s32] "r"(b), [m16] "m"(m16), [fi] "r"(fin)                                 \
            : "cc");                                                                      \
    h = mix(mix(mix(h, r8), m8), d32);                                                    \
    h = mix(mix(h, d16), t);                                                              \
    d32 = b;                                                                              \
    __asm__(FLAGS_IN "cmov" cc "l %[m32], %[d32]"                                         \
            : [d32] "+r"(d32)                                                             \
            : [m32] "m"(a), [fi] "r"(fin)                                                 \
            : "cc");                                                                      \
    h = mix(h, d32);                                                                      \
  } while (0)

uint32_t alu_cond(void) {
  uint32_t h = 0x636f6e64u, seed = 0x68ace02u;
  for (int i = 0; i < ITERATIONS; i++) {
    uint32_t a = pick(&seed), b = pick(&seed);
    uint16_t m16 = (uint16_t)(a >> 7);
    uint32_t fin = pick(&seed) & F_ARITH;
    COND("o");
    COND("no");
    COND("b");
    COND("ae");
    COND("e");
    COND("ne");
    COND("be");
    COND("a");
    COND("s");
    COND("ns");
    COND("p");
    COND("np");
    COND("l");
    COND("ge");
    COND("le");
    COND("g");
    /* Conditions after a real comparison too, as compiled code produces them. */
    int32_t sa = (int32_t)a, sb = (int32_t)b;
    h = mix(h, (a < b) | (a <= b) << 1 | (a > b) << 2 | (a >= b) << 3 | (a == b) << 4);
    h = mix(h, (sa < sb) | (sa <= sb) << 1 | (sa > sb) << 2 | (sa >= sb) << 3);
  }
  return h;
}
