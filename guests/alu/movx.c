/* movzx/movsx from 8 and 16 bits (register and memory sources, 16- and 32-bit destinations),
   and lea in every 32-bit addressing form, with 16-bit operand and 16-bit address sizes. */
#include "alu.h"
#include "mix.h"

enum { ITERATIONS = 5000 };

static uint32_t lea_anchor[4];

static uint32_t extensions(uint32_t a, uint32_t b) {
  uint8_t b8 = (uint8_t)b;
  uint16_t b16 = (uint16_t)(b >> 8);
  uint32_t r1, r2, r3, r4, r5, r6;
  uint16_t w1 = (uint16_t)a, w2 = (uint16_t)(a >> 16);
  __asm__(
      "movzbl %[s8], %[r1]\n\t"
      "movsbl %[s8], %[r2]\n\t"
      "movzwl %[s16], %[r3]"
      : [r1] "=&r"(r1), [r2] "=&r"(r2), [r3] "=&r"(r3)
      : [s8] "q"(b8), [s16] "r"(b16));
  __asm__(
      "movswl %[s16], %[r4]\n\t"
      "movzbl %[m8], %[r5]\n\t"
      "movswl %[m16], %[r6]"
      : [r4] "=&r"(r4), [r5] "=&r"(r5), [r6] "=&r"(r6)
      : [s16] "r"(b16), [m8] "m"(b8), [m16] "m"(b16));
  __asm__(
      "movzbw %[s8], %[w1]\n\t"
      "movsbw %[m8], %[w2]"
      : [w1] "+r"(w1), [w2] "+r"(w2)
      : [s8] "q"(b8), [m8] "m"(b8));
  uint32_t h = mix(mix(mix(r1, r2), r3), r4);
  return mix(mix(mix(mix(h, r5), r6), w1), w2);
}

/* Every ModRM/SIB shape: base, base+disp8, base+disp32, index*scale (no base), base+index*scale
   with and without displacement, ESP and EBP as base, absolute, 16-bit forms. Pointers are
   made relative to their base so the checksum does not depend on load addresses. */
static uint32_t addressing(uint32_t a, uint32_t b) {
  uint32_t h = 0, r;
  __asm__("leal (%[a]), %[r]" : [r] "=r"(r) : [a] "r"(a));
  h = mix(h, r);
  __asm__("leal -0x70(%[a]), %[r]" : [r] "=r"(r) : [a] "r"(a));
  h = mix(h, r);
  __asm__("leal 0x12345678(%[a]), %[r]" : [r] "=r"(r) : [a] "r"(a));
  h = mix(h, r);
  __asm__("leal 0x100(,%[b],8), %[r]" : [r] "=r"(r) : [b] "r"(b));
  h = mix(h, r);
  __asm__("leal (,%[b],2), %[r]" : [r] "=r"(r) : [b] "r"(b));
  h = mix(h, r);
  __asm__("leal (%[a],%[b]), %[r]" : [r] "=r"(r) : [a] "r"(a), [b] "r"(b));
  h = mix(h, r);
  __asm__("leal (%[a],%[b],4), %[r]" : [r] "=r"(r) : [a] "r"(a), [b] "r"(b));
  h = mix(h, r);
  __asm__("leal 0x7f(%[a],%[b],2), %[r]" : [r] "=r"(r) : [a] "r"(a), [b] "r"(b));
  h = mix(h, r);
  __asm__("leal -0x789abcde(%[a],%[b],8), %[r]" : [r] "=r"(r) : [a] "r"(a), [b] "r"(b));
  h = mix(h, r);
  /* EBP as base always carries a displacement; ESP as base always needs a SIB byte. */
  /* Fixed registers keep the operands out of EBP, which is borrowed here. */
  __asm__(
      "pushl %%ebp\n\t"
      "movl %[a], %%ebp\n\t"
      "leal (%%ebp), %[r]\n\t"
      "leal 8(%%ebp,%[b],4), %[b]\n\t"
      "addl %[b], %[r]\n\t"
      "popl %%ebp"
      : [r] "=&a"(r), [b] "+d"(b)
      : [a] "c"(a));
  h = mix(h, r);
  uint32_t esp_plain, esp_disp, esp_index;
  __asm__(
      "movl %%esp, %[p]\n\t"
      "leal 0x24(%%esp), %[d]\n\t"
      "leal -0x14(%%esp,%[a],2), %[i]\n\t"
      "subl %[p], %[d]\n\t"
      "subl %[p], %[i]\n\t"
      "leal (%%esp), %[p]\n\t"
      "subl %%esp, %[p]"
      : [p] "=&r"(esp_plain), [d] "=&r"(esp_disp), [i] "=&r"(esp_index)
      : [a] "r"(a));
  h = mix(mix(mix(h, esp_plain), esp_disp), esp_index);
  /* Absolute disp32 with no base or index. */
  __asm__("leal 12+%c[sym], %[r]" : [r] "=r"(r) : [sym] "i"(lea_anchor));
  h = mix(h, r - (uint32_t)(uintptr_t)lea_anchor);
  __asm__("movl 4+%c[sym], %[r]" : [r] "=r"(r) : [sym] "i"(lea_anchor), "m"(lea_anchor[1]));
  h = mix(h, r);
  /* 16-bit operand size truncates the address; 16-bit address size computes in 16 bits. */
  uint32_t w = a;
  __asm__("leaw 0x1234(%[a],%[b],2), %w[w]" : [w] "+r"(w) : [a] "r"(a), [b] "r"(b));
  h = mix(h, w);
  uint32_t bx = a, si = b, di = a ^ b, r16 = 0;
  __asm__(
      "addr16 leal 0x4321(%%bx,%%si), %[r]\n\t"
      "addr16 leal -2(%%bx,%%di), %[t]\n\t"
      "addl %[t], %[r]\n\t"
      "addr16 leal 0x7000(%%si), %[t]\n\t"
      "xorl %[t], %[r]"
      : [r] "+r"(r16), [t] "=&r"(w)
      : "b"(bx), "S"(si), "D"(di));
  h = mix(h, r16);
  return h;
}

uint32_t alu_movx(void) {
  uint32_t h = 0x6d6f7678u, seed = 0x8ace024u;
  for (int i = 0; i < 4; i++) lea_anchor[i] = pick(&seed);
  for (int i = 0; i < ITERATIONS; i++) {
    uint32_t a = pick(&seed), b = pick(&seed);
    h = mix(h, extensions(a, b));
    h = mix(h, addressing(a, b));
  }
  return h;
}
