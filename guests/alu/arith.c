/* add/sub/adc/sbb/and/or/xor/cmp/test, inc/dec/neg/not: 8/16/32-bit, register, memory and
   immediate forms (including the short accumulator encodings and sign-extended imm8). */
#include "alu.h"
#include "flags.h"
#include "mix.h"

enum { ITERATIONS = 3000 };

/* dst op= src with dst/src both in registers, dst in memory, src in memory. */
#define BINOP_RM(op, T, rc, mask)               \
  do {                                          \
    T d = (T)a, s = (T)b;                       \
    uint32_t f;                                 \
    __asm__(FLAGS_IN op " %[s], %[d]" FLAGS_OUT \
            : [d] "+" rc(d), [fo] "=&r"(f)      \
            : [s] rc(s), [fi] "r"(fin)          \
            : "cc");                            \
    h = mix(mix(h, d), f & (mask));             \
    d = (T)b;                                   \
    s = (T)a;                                   \
    __asm__(FLAGS_IN op " %[s], %[d]" FLAGS_OUT \
            : [d] "+m"(d), [fo] "=&r"(f)        \
            : [s] rc(s), [fi] "r"(fin)          \
            : "cc");                            \
    h = mix(mix(h, d), f & (mask));             \
    d = (T)(a ^ b);                             \
    s = (T)(a + b);                             \
    __asm__(FLAGS_IN op " %[s], %[d]" FLAGS_OUT \
            : [d] "+" rc(d), [fo] "=&r"(f)      \
            : [s] "m"(s), [fi] "r"(fin)         \
            : "cc");                            \
    h = mix(mix(h, d), f & (mask));             \
  } while (0)

/* dst op= immediate: register, memory, and the accumulator short form. */
#define BINOP_IMM(op, T, rc, imm, mask)         \
  do {                                          \
    T d = (T)a;                                 \
    uint32_t f;                                 \
    __asm__(FLAGS_IN op " %[s], %[d]" FLAGS_OUT \
            : [d] "+" rc(d), [fo] "=&r"(f)      \
            : [s] "i"(imm), [fi] "r"(fin)       \
            : "cc");                            \
    h = mix(mix(h, d), f & (mask));             \
    d = (T)b;                                   \
    __asm__(FLAGS_IN op " %[s], %[d]" FLAGS_OUT \
            : [d] "+m"(d), [fo] "=&r"(f)        \
            : [s] "i"(imm), [fi] "r"(fin)       \
            : "cc");                            \
    h = mix(mix(h, d), f & (mask));             \
    d = (T)(a - b);                             \
    __asm__(FLAGS_IN op " %[s], %[d]" FLAGS_OUT \
            : [d] "+a"(d), [fo] "=&r"(f)        \
            : [s] "i"(imm), [fi] "r"(fin)       \
            : "cc");                            \
    h = mix(mix(h, d), f & (mask));             \
  } while (0)

/* Every size, with a small (sign-extended imm8 encoding) and a large immediate. */
#define BINOP_ALL(op, mask)                              \
  do {                                                   \
    BINOP_RM(op "b", uint8_t, "q", mask);                \
    BINOP_RM(op "w", uint16_t, "r", mask);               \
    BINOP_RM(op "l", uint32_t, "r", mask);               \
    BINOP_IMM(op "b", uint8_t, "q", 0x7f, mask);         \
    BINOP_IMM(op "b", uint8_t, "q", 0xc3, mask);         \
    BINOP_IMM(op "w", uint16_t, "r", -3, mask);          \
    BINOP_IMM(op "w", uint16_t, "r", 0x8421, mask);      \
    BINOP_IMM(op "l", uint32_t, "r", 0x45, mask);        \
    BINOP_IMM(op "l", uint32_t, "r", -0x7edcba99, mask); \
  } while (0)

#define UNOP(op, T, rc, mask)                                                                     \
  do {                                                                                            \
    T d = (T)a;                                                                                   \
    uint32_t f;                                                                                   \
    __asm__(FLAGS_IN op " %[d]" FLAGS_OUT : [d] "+" rc(d), [fo] "=&r"(f) : [fi] "r"(fin) : "cc"); \
    h = mix(mix(h, d), f & (mask));                                                               \
    d = (T)b;                                                                                     \
    __asm__(FLAGS_IN op " %[d]" FLAGS_OUT : [d] "+m"(d), [fo] "=&r"(f) : [fi] "r"(fin) : "cc");   \
    h = mix(mix(h, d), f & (mask));                                                               \
  } while (0)

#define UNOP_ALL(op, mask)             \
  do {                                 \
    UNOP(op "b", uint8_t, "q", mask);  \
    UNOP(op "w", uint16_t, "r", mask); \
    UNOP(op "l", uint32_t, "r", mask); \
  } while (0)

/* gcc never allocates AH/BH/CH/DH; the translator must still get their encodings right. */
static uint32_t high_byte_registers(uint32_t a, uint32_t b, uint32_t fin) {
  uint32_t x = a, y = b, f;
  __asm__(FLAGS_IN
          "addb %%ah, %%bl\n\t"
          "adcb %%bh, %%al\n\t"
          "subb %%bl, %%ah\n\t"
          "xorb %%ah, %%bh\n\t"
          "incb %%bh\n\t"
          "negb %%ah\n\t"
          "sbbb $0x35, %%bh\n\t"
          "cmpb %%ah, %%bh" FLAGS_OUT
          : "+a"(x), "+b"(y), [fo] "=&r"(f)
          : [fi] "c"(fin)
          : "cc");
  return mix(mix(x, y), f & F_ARITH);
}

uint32_t alu_arith(void) {
  uint32_t h = 0x61726974u, seed = 0x1234567u;
  for (int i = 0; i < ITERATIONS; i++) {
    uint32_t a = pick(&seed), b = pick(&seed);
    uint32_t fin = pick(&seed) & F_ARITH;
    BINOP_ALL("add", F_ARITH);
    BINOP_ALL("sub", F_ARITH);
    BINOP_ALL("adc", F_ARITH);
    BINOP_ALL("sbb", F_ARITH);
    BINOP_ALL("and", F_LOGIC);
    BINOP_ALL("or", F_LOGIC);
    BINOP_ALL("xor", F_LOGIC);
    BINOP_ALL("cmp", F_ARITH);
    BINOP_ALL("test", F_LOGIC);
    UNOP_ALL("inc", F_ARITH);
    UNOP_ALL("dec", F_ARITH);
    UNOP_ALL("neg", F_ARITH);
    UNOP_ALL("not", F_ARITH);
    h = mix(h, high_byte_registers(a, b, fin));
  }
  return h;
}
