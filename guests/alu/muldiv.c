/* mul/imul (one-, two- and three-operand forms) and div/idiv at 8, 16 and 32 bits, with
   register and memory operands. Dividends are chosen so the quotient fits (no #DE). */
#include "alu.h"
#include "flags.h"
#include "mix.h"

enum { ITERATIONS = 3000 };

/* After mul/imul only CF and OF are defined. */
#define F_MUL (F_CF | F_OF)

static uint32_t widening_multiplies(uint32_t a, uint32_t b, uint32_t fin) {
  uint32_t h = 0, f, lo, hi;
  uint8_t b8 = (uint8_t)b;
  uint16_t b16 = (uint16_t)b;

  lo = a;
  __asm__(FLAGS_IN "mulb %[s]" FLAGS_OUT
          : "+a"(lo), [fo] "=&r"(f)
          : [s] "q"(b8), [fi] "r"(fin)
          : "cc");
  h = mix(mix(h, lo), f & F_MUL);
  lo = a;
  __asm__(FLAGS_IN "imulb %[s]" FLAGS_OUT
          : "+a"(lo), [fo] "=&r"(f)
          : [s] "m"(b8), [fi] "r"(fin)
          : "cc");
  h = mix(mix(h, lo), f & F_MUL);

  lo = a;
  hi = 0x5a5a5a5a;
  __asm__(FLAGS_IN "mulw %[s]" FLAGS_OUT
          : "+a"(lo), "+d"(hi), [fo] "=&r"(f)
          : [s] "m"(b16), [fi] "r"(fin)
          : "cc");
  h = mix(mix(mix(h, lo), hi), f & F_MUL);
  lo = a;
  hi = 0xa5a5a5a5;
  __asm__(FLAGS_IN "imulw %[s]" FLAGS_OUT
          : "+a"(lo), "+d"(hi), [fo] "=&r"(f)
          : [s] "r"(b16), [fi] "r"(fin)
          : "cc");
  h = mix(mix(mix(h, lo), hi), f & F_MUL);

  __asm__(FLAGS_IN "mull %[s]" FLAGS_OUT
          : "=a"(lo), "=d"(hi), [fo] "=&r"(f)
          : "a"(a), [s] "r"(b), [fi] "r"(fin)
          : "cc");
  h = mix(mix(mix(h, lo), hi), f & F_MUL);
  __asm__(FLAGS_IN "imull %[s]" FLAGS_OUT
          : "=a"(lo), "=d"(hi), [fo] "=&r"(f)
          : "a"(a), [s] "m"(b), [fi] "r"(fin)
          : "cc");
  h = mix(mix(mix(h, lo), hi), f & F_MUL);
  return h;
}

static uint32_t truncating_multiplies(uint32_t a, uint32_t b, uint32_t fin) {
  uint32_t h = 0, f, d32 = a;
  uint16_t d16 = (uint16_t)a, s16 = (uint16_t)b;

  __asm__(FLAGS_IN "imulw %[s], %[d]" FLAGS_OUT
          : [d] "+r"(d16), [fo] "=&r"(f)
          : [s] "r"(s16), [fi] "r"(fin)
          : "cc");
  h = mix(mix(h, d16), f & F_MUL);
  __asm__(FLAGS_IN "imulw %[s], %[d]" FLAGS_OUT
          : [d] "+r"(d16), [fo] "=&r"(f)
          : [s] "m"(s16), [fi] "r"(fin)
          : "cc");
  h = mix(mix(h, d16), f & F_MUL);
  __asm__(FLAGS_IN "imull %[s], %[d]" FLAGS_OUT
          : [d] "+r"(d32), [fo] "=&r"(f)
          : [s] "r"(b), [fi] "r"(fin)
          : "cc");
  h = mix(mix(h, d32), f & F_MUL);
  d32 = b;
  __asm__(FLAGS_IN "imull %[s], %[d]" FLAGS_OUT
          : [d] "+r"(d32), [fo] "=&r"(f)
          : [s] "m"(a), [fi] "r"(fin)
          : "cc");
  h = mix(mix(h, d32), f & F_MUL);

  /* Three-operand forms with imm8 (sign-extended) and full-size immediates. */
  __asm__(FLAGS_IN "imulw $-7, %[s], %[d]" FLAGS_OUT
          : [d] "=&r"(d16), [fo] "=&r"(f)
          : [s] "r"(s16), [fi] "r"(fin)
          : "cc");
  h = mix(mix(h, d16), f & F_MUL);
  __asm__(FLAGS_IN "imulw $0x1234, %[s], %[d]" FLAGS_OUT
          : [d] "=&r"(d16), [fo] "=&r"(f)
          : [s] "m"(s16), [fi] "r"(fin)
          : "cc");
  h = mix(mix(h, d16), f & F_MUL);
  __asm__(FLAGS_IN "imull $100, %[s], %[d]" FLAGS_OUT
          : [d] "=&r"(d32), [fo] "=&r"(f)
          : [s] "m"(a), [fi] "r"(fin)
          : "cc");
  h = mix(mix(h, d32), f & F_MUL);
  __asm__(FLAGS_IN "imull $-0x12345679, %[s], %[d]" FLAGS_OUT
          : [d] "=&r"(d32), [fo] "=&r"(f)
          : [s] "r"(b), [fi] "r"(fin)
          : "cc");
  h = mix(mix(h, d32), f & F_MUL);
  return h;
}

/* A signed dividend whose quotient by `divisor` fits in `bits` (never the most negative value,
   which some CPUs reject). Falls back to the sign-extended low half, whose quotient always fits
   unless it is the most negative value divided by -1. */
static int64_t fitting_dividend(int64_t n, int32_t divisor, int bits) {
  int64_t limit = ((int64_t)1 << (bits - 1)) - 1;
  if (divisor == -1 && n == INT64_MIN) n = 0; /* the C division itself would overflow */
  int64_t q = n / divisor;
  if (q >= -limit && q <= limit) return n;
  int64_t low = (int64_t)(n << (64 - bits)) >> (64 - bits);
  if (divisor == -1 && low == -limit - 1) low = -limit;
  if (divisor == 1 && low == -limit - 1) low = -limit;
  return low;
}

/* All flags are undefined after div/idiv: only quotient and remainder are checked. */
static uint32_t divides(uint32_t a, uint32_t b, uint32_t c) {
  uint32_t h = 0;

  /* Unsigned: the quotient fits when the high half of the dividend is below the divisor. */
  uint8_t d8 = (uint8_t)(b | 1);
  uint32_t ax = (uint16_t)(((a >> 8) % d8) << 8 | (a & 0xff));
  __asm__("divb %[s]" : "+a"(ax) : [s] "q"(d8) : "cc");
  h = mix(h, ax & 0xffff);

  uint16_t d16 = (uint16_t)(b | 0x10);
  uint32_t lo = c, hi = (uint16_t)(a % d16) | 0xdead0000u;
  __asm__("divw %[s]" : "+a"(lo), "+d"(hi) : [s] "m"(d16) : "cc");
  h = mix(mix(h, lo), hi);

  uint32_t d32 = b | 1;
  lo = c;
  hi = a % d32;
  __asm__("divl %[s]" : "+a"(lo), "+d"(hi) : [s] "r"(d32) : "cc");
  h = mix(mix(h, lo), hi);

  /* Signed. */
  int8_t s8 = (int8_t)(b >> 3) ? (int8_t)(b >> 3) : 3;
  ax = (uint16_t)fitting_dividend((int16_t)a, s8, 8);
  __asm__("idivb %[s]" : "+a"(ax) : [s] "m"(s8) : "cc");
  h = mix(h, ax & 0xffff);

  int16_t s16 = (int16_t)(b >> 5) ? (int16_t)(b >> 5) : -5;
  uint32_t n32 = (uint32_t)fitting_dividend((int32_t)(a ^ c), s16, 16);
  lo = (n32 & 0xffff) | 0xbeef0000u;
  hi = n32 >> 16;
  __asm__("idivw %[s]" : "+a"(lo), "+d"(hi) : [s] "r"(s16) : "cc");
  h = mix(mix(h, lo), hi);

  int32_t s32 = (int32_t)(b >> (c & 15)) ? (int32_t)(b >> (c & 15)) : -1;
  int64_t n64 = fitting_dividend((int64_t)((uint64_t)a << 32 | c), s32, 32);
  lo = (uint32_t)n64;
  hi = (uint32_t)((uint64_t)n64 >> 32);
  __asm__("idivl %[s]" : "+a"(lo), "+d"(hi) : [s] "m"(s32) : "cc");
  h = mix(mix(h, lo), hi);
  return h;
}

uint32_t alu_muldiv(void) {
  uint32_t h = 0x6d756c64u, seed = 0x4680246u;
  for (int i = 0; i < ITERATIONS; i++) {
    uint32_t a = pick(&seed), b = pick(&seed), c = pick(&seed);
    uint32_t fin = c & F_ARITH;
    h = mix(h, widening_multiplies(a, b, fin));
    h = mix(h, truncating_multiplies(a, b, fin));
    h = mix(h, divides(a, b, c));
  }
  return h;
}
