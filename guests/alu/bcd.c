/* The decimal adjusts daa/das/aaa/aas/aam/aad over every AL value and AF/CF input, with
   random AH and several aam/aad bases. */
#include "alu.h"
#include "flags.h"
#include "mix.h"

#define F_DAA (F_ARITH & ~F_OF) /* OF undefined */
#define F_AAA (F_AF | F_CF)     /* OF, SF, ZF, PF undefined */
#define F_AAM (F_SF | F_ZF | F_PF)

#define ADJUST(insn, mask)                                                            \
  do {                                                                                \
    uint32_t x = ax, f;                                                               \
    __asm__(FLAGS_IN insn FLAGS_OUT : "+a"(x), [fo] "=&r"(f) : [fi] "r"(fin) : "cc"); \
    h = mix(mix(h, x), f & (mask));                                                   \
  } while (0)

uint32_t alu_bcd(void) {
  uint32_t h = 0x62636400u, seed = 0xbdf1357u;
  for (uint32_t al = 0; al < 256; al++) {
    for (uint32_t carries = 0; carries < 4; carries++) {
      uint32_t fin = (carries & 1 ? F_CF : 0) | (carries & 2 ? F_AF : 0) |
                     (pick(&seed) & (F_ZF | F_SF | F_PF | F_OF));
      uint32_t ax = (pick(&seed) & 0xffff0000u) | (pick(&seed) & 0xff00u) | al;
      ADJUST("daa", F_DAA);
      ADJUST("das", F_DAA);
      ADJUST("aaa", F_AAA);
      ADJUST("aas", F_AAA);
      ADJUST("aam", F_AAM);
      ADJUST("aam $16", F_AAM);
      ADJUST("aam $7", F_AAM);
      ADJUST("aad", F_AAM);
      ADJUST("aad $16", F_AAM);
      ADJUST("aad $255", F_AAM);
    }
  }
  /* Packed-BCD addition as compilers of old emitted it: add, daa, adc through the bytes. */
  for (int i = 0; i < 500; i++) {
    uint32_t x = pick(&seed) % 100000000u, y = pick(&seed) % 100000000u, bx = 0, by = 0;
    for (int d = 0; d < 8; d++, x /= 10, y /= 10) {
      bx |= (x % 10) << (4 * d);
      by |= (y % 10) << (4 * d);
    }
    uint32_t sum = 0, carry = 0;
    for (int byte = 0; byte < 4; byte++) {
      uint32_t al = bx >> (8 * byte) & 0xff, bl = by >> (8 * byte) & 0xff;
      __asm__(
          "btl $0, %[c]\n\t"
          "adcb %b[b], %%al\n\t"
          "daa\n\t"
          "setc %b[c]\n\t"
          "movzbl %b[c], %[c]"
          : "+a"(al), [c] "+q"(carry)
          : [b] "q"(bl)
          : "cc");
      sum |= (al & 0xff) << (8 * byte);
    }
    h = mix(mix(h, sum), carry);
  }
  return h;
}
