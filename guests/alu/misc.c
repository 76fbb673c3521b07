/* cbw/cwde/cwd/cdq, lahf/sahf, clc/stc/cmc, xlat. */
#include "alu.h"
#include "flags.h"
#include "mix.h"

enum { ITERATIONS = 6000 };

static uint8_t xlat_table[256];

static uint32_t sign_extensions(uint32_t a, uint32_t b) {
  uint32_t x = a, d = b;
  __asm__("cbtw" : "+a"(x));
  uint32_t h = mix(0, x);
  x = a;
  __asm__("cwtl" : "+a"(x));
  h = mix(h, x);
  x = a;
  __asm__("cwtd" : "+a"(x), "+d"(d));
  h = mix(mix(h, x), d);
  x = a << 16 | b >> 16;
  __asm__("cltd" : "+a"(x), "=d"(d));
  return mix(mix(h, x), d);
}

/* sahf writes SF, ZF, AF, PF and CF from AH; lahf reads them back (bit 1 always set). */
static uint32_t flag_transfers(uint32_t a, uint32_t fin) {
  uint32_t x = a, f, y;
  __asm__(FLAGS_IN "sahf" FLAGS_OUT : "+a"(x), [fo] "=&r"(f) : [fi] "r"(fin) : "cc");
  uint32_t h = mix(x, f & F_ARITH);
  y = a;
  __asm__(FLAGS_IN "lahf" : "+a"(y) : [fi] "r"(fin) : "cc");
  h = mix(h, y & 0xffffd7ffu); /* bits 3 and 5 of AH are reserved */
  /* clc/stc/cmc change CF only. */
  __asm__(FLAGS_IN "cmc\n\tpushfl\n\tstc\n\tcmc\n\tcmc\n\tpushfl\n\tclc\n\tcmc" FLAGS_OUT
                   "\n\t"
                   "popl %[x]\n\t"
                   "popl %[y]"
          : [x] "=&r"(x), [y] "=&r"(y), [fo] "=&r"(f)
          : [fi] "r"(fin)
          : "cc");
  return mix(mix(mix(h, x & F_ARITH), y & F_ARITH), f & F_ARITH);
}

static uint32_t translate(uint32_t a) {
  uint32_t x = a, y = a >> 8;
  __asm__("xlat" : "+a"(x) : "b"(xlat_table), "m"(xlat_table));
  /* xlatb uses AL only: the upper bits of EAX must not leak into the index. */
  __asm__("xlatb\n\txlatb" : "+a"(y) : "b"(xlat_table), "m"(xlat_table));
  return mix(x, y);
}

uint32_t alu_misc(void) {
  uint32_t h = 0x6d697363u, seed = 0xdf13579u;
  for (int i = 0; i < 256; i++) xlat_table[i] = (uint8_t)(pick(&seed) >> 5);
  for (int i = 0; i < ITERATIONS; i++) {
    uint32_t a = pick(&seed), b = pick(&seed);
    h = mix(h, sign_extensions(a, b));
    h = mix(h, flag_transfers(a, b & F_ARITH));
    h = mix(h, translate(b));
  }
  return h;
}
