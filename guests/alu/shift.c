/* shl/shr/sar/rol/ror/rcl/rcr by 1, by imm8 and by CL (counts 0, below, at and above the
   operand width, and above 31 where the CPU masks the count), register and memory forms;
   shld/shrd by imm8 and CL. */
#include "alu.h"
#include "flags.h"
#include "mix.h"

enum { ITERATIONS = 2000 };

enum kind { SHIFT, ROTATE, ROTATE_CARRY, DOUBLE };

/* Flags the architecture defines after a shift or rotate by `count` (before masking). */
static uint32_t defined_flags(enum kind kind, unsigned width, unsigned count) {
  unsigned c = count & 31;
  if (c == 0) return F_ARITH; /* nothing changes: every input flag must survive */
  uint32_t of = c == 1 ? F_OF : 0;
  switch (kind) {
    case SHIFT:
      /* CF is undefined for counts >= width (only reachable for 8 and 16 bits). */
      return F_SF | F_ZF | F_PF | of | (c < width ? F_CF : 0);
    case ROTATE:
    case ROTATE_CARRY:
      /* Rotates leave SF, ZF, AF and PF alone. */
      return F_SF | F_ZF | F_AF | F_PF | F_CF | of;
    case DOUBLE:
      return F_SF | F_ZF | F_PF | F_CF | of;
  }
  return 0;
}

/* One operation in every count form; `imm` is the immediate count. */
#define SHIFT_FORMS(op, T, rc, kind, imm)                                                         \
  do {                                                                                            \
    const unsigned width = sizeof(T) * 8;                                                         \
    T d = (T)a;                                                                                   \
    uint32_t f;                                                                                   \
    __asm__(FLAGS_IN op " %[d]" FLAGS_OUT : [d] "+" rc(d), [fo] "=&r"(f) : [fi] "r"(fin) : "cc"); \
    h = mix(mix(h, d), f & defined_flags(kind, width, 1));                                        \
    d = (T)b;                                                                                     \
    __asm__(FLAGS_IN op " %[d]" FLAGS_OUT : [d] "+m"(d), [fo] "=&r"(f) : [fi] "r"(fin) : "cc");   \
    h = mix(mix(h, d), f & defined_flags(kind, width, 1));                                        \
    d = (T)a;                                                                                     \
    __asm__(FLAGS_IN op " %[n], %[d]" FLAGS_OUT                                                   \
            : [d] "+" rc(d), [fo] "=&r"(f)                                                        \
            : [n] "i"(imm), [fi] "r"(fin)                                                         \
            : "cc");                                                                              \
    h = mix(mix(h, d), f & defined_flags(kind, width, imm));                                      \
    d = (T)b;                                                                                     \
    __asm__(FLAGS_IN op " %[n], %[d]" FLAGS_OUT                                                   \
            : [d] "+m"(d), [fo] "=&r"(f)                                                          \
            : [n] "i"(imm), [fi] "r"(fin)                                                         \
            : "cc");                                                                              \
    h = mix(mix(h, d), f & defined_flags(kind, width, imm));                                      \
    d = (T)a;                                                                                     \
    __asm__(FLAGS_IN op " %%cl, %[d]" FLAGS_OUT                                                   \
            : [d] "+" rc(d), [fo] "=&r"(f)                                                        \
            : "c"(cl), [fi] "r"(fin)                                                              \
            : "cc");                                                                              \
    h = mix(mix(h, d), f & defined_flags(kind, width, cl));                                       \
    d = (T)b;                                                                                     \
    __asm__(FLAGS_IN op " %%cl, %[d]" FLAGS_OUT                                                   \
            : [d] "+m"(d), [fo] "=&r"(f)                                                          \
            : "c"(cl), [fi] "r"(fin)                                                              \
            : "cc");                                                                              \
    h = mix(mix(h, d), f & defined_flags(kind, width, cl));                                       \
  } while (0)

#define SHIFT_SIZES(op, kind, imm8, imm16, imm32)    \
  do {                                               \
    SHIFT_FORMS(op "b", uint8_t, "q", kind, imm8);   \
    SHIFT_FORMS(op "w", uint16_t, "r", kind, imm16); \
    SHIFT_FORMS(op "l", uint32_t, "r", kind, imm32); \
  } while (0)

/* All seven operations with one set of immediate counts. */
#define SHIFT_ALL(imm8, imm16, imm32)                     \
  do {                                                    \
    SHIFT_SIZES("shl", SHIFT, imm8, imm16, imm32);        \
    SHIFT_SIZES("shr", SHIFT, imm8, imm16, imm32);        \
    SHIFT_SIZES("sar", SHIFT, imm8, imm16, imm32);        \
    SHIFT_SIZES("rol", ROTATE, imm8, imm16, imm32);       \
    SHIFT_SIZES("ror", ROTATE, imm8, imm16, imm32);       \
    SHIFT_SIZES("rcl", ROTATE_CARRY, imm8, imm16, imm32); \
    SHIFT_SIZES("rcr", ROTATE_CARRY, imm8, imm16, imm32); \
  } while (0)

/* shld/shrd: 16-bit results for counts above 16 are undefined, so those are skipped. */
#define DOUBLE_FORMS(op, T, imm)                                \
  do {                                                          \
    const unsigned width = sizeof(T) * 8;                       \
    T d = (T)a, s = (T)b;                                       \
    uint32_t f;                                                 \
    __asm__(FLAGS_IN op " %[n], %[s], %[d]" FLAGS_OUT           \
            : [d] "+r"(d), [fo] "=&r"(f)                        \
            : [s] "r"(s), [n] "i"(imm), [fi] "r"(fin)           \
            : "cc");                                            \
    h = mix(mix(h, d), f & defined_flags(DOUBLE, width, imm));  \
    d = (T)b;                                                   \
    s = (T)a;                                                   \
    __asm__(FLAGS_IN op " %[n], %[s], %[d]" FLAGS_OUT           \
            : [d] "+m"(d), [fo] "=&r"(f)                        \
            : [s] "r"(s), [n] "i"(imm), [fi] "r"(fin)           \
            : "cc");                                            \
    h = mix(mix(h, d), f & defined_flags(DOUBLE, width, imm));  \
    if ((cl & 31) <= width) {                                   \
      d = (T)a;                                                 \
      s = (T)~b;                                                \
      __asm__(FLAGS_IN op " %%cl, %[s], %[d]" FLAGS_OUT         \
              : [d] "+r"(d), [fo] "=&r"(f)                      \
              : [s] "r"(s), "c"(cl), [fi] "r"(fin)              \
              : "cc");                                          \
      h = mix(mix(h, d), f & defined_flags(DOUBLE, width, cl)); \
      d = (T)~a;                                                \
      __asm__(FLAGS_IN op " %%cl, %[s], %[d]" FLAGS_OUT         \
              : [d] "+m"(d), [fo] "=&r"(f)                      \
              : [s] "r"(s), "c"(cl), [fi] "r"(fin)              \
              : "cc");                                          \
      h = mix(mix(h, d), f & defined_flags(DOUBLE, width, cl)); \
    }                                                           \
  } while (0)

#define DOUBLE_ALL(imm16, imm32)            \
  do {                                      \
    DOUBLE_FORMS("shldw", uint16_t, imm16); \
    DOUBLE_FORMS("shrdw", uint16_t, imm16); \
    DOUBLE_FORMS("shldl", uint32_t, imm32); \
    DOUBLE_FORMS("shrdl", uint32_t, imm32); \
  } while (0)

uint32_t alu_shift(void) {
  uint32_t h = 0x73686966u, seed = 0x2468aceu;
  for (int i = 0; i < ITERATIONS; i++) {
    uint32_t a = pick(&seed), b = pick(&seed);
    uint32_t fin = pick(&seed) & F_ARITH;
    /* CL spans 0..63: zero, in range, at and past the width, past the 5-bit mask. */
    uint8_t cl = (uint8_t)(pick(&seed) & 63);
    switch (i & 3) {
      case 0:
        SHIFT_ALL(0, 0, 0);
        DOUBLE_ALL(0, 0);
        break;
      case 1:
        SHIFT_ALL(3, 9, 17);
        DOUBLE_ALL(1, 1);
        break;
      case 2:
        SHIFT_ALL(8, 16, 31);
        DOUBLE_ALL(7, 19);
        break;
      default:
        SHIFT_ALL(9, 17, 33);
        DOUBLE_ALL(16, 31);
        break;
    }
  }
  return h;
}
