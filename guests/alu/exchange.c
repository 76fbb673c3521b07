/* xchg (register, memory, the one-byte EAX form), cmpxchg (equal and unequal, 8/16/32),
   cmpxchg8b, xadd, lock-prefixed read-modify-write, bswap. */
#include "alu.h"
#include "flags.h"
#include "mix.h"

enum { ITERATIONS = 3000 };

#define XCHG(sfx, T, rc)                                              \
  do {                                                                \
    T x = (T)a, y = (T)b, m = (T)c;                                   \
    __asm__("xchg" sfx " %[x], %[y]" : [x] "+" rc(x), [y] "+" rc(y)); \
    __asm__("xchg" sfx " %[x], %[m]" : [x] "+" rc(x), [m] "+m"(m));   \
    h = mix(mix(mix(h, x), y), m);                                    \
  } while (0)

/* cmpxchg: when the accumulator equals the destination the source is stored, otherwise the
   destination is loaded into the accumulator; flags as for cmp. */
#define CMPXCHG(sfx, T, rc, equal)                                                \
  do {                                                                            \
    T acc = (T)a, dr = (T)((equal) ? a : b), dm = (T)((equal) ? a : c), s = (T)c; \
    uint32_t f;                                                                   \
    __asm__(FLAGS_IN "cmpxchg" sfx " %[s], %[d]" FLAGS_OUT                        \
            : "+a"(acc), [d] "+" rc(dr), [fo] "=&r"(f)                            \
            : [s] rc(s), [fi] "r"(fin)                                            \
            : "cc");                                                              \
    h = mix(mix(mix(h, acc), dr), f & F_ARITH);                                   \
    acc = (T)a;                                                                   \
    __asm__(FLAGS_IN "lock cmpxchg" sfx " %[s], %[d]" FLAGS_OUT                   \
            : "+a"(acc), [d] "+m"(dm), [fo] "=&r"(f)                              \
            : [s] rc(s), [fi] "r"(fin)                                            \
            : "cc", "memory");                                                    \
    h = mix(mix(mix(h, acc), dm), f & F_ARITH);                                   \
  } while (0)

#define XADD(sfx, T, rc)                                     \
  do {                                                       \
    T d = (T)a, s = (T)b, m = (T)c;                          \
    uint32_t f;                                              \
    __asm__(FLAGS_IN "xadd" sfx " %[s], %[d]" FLAGS_OUT      \
            : [d] "+" rc(d), [s] "+" rc(s), [fo] "=&r"(f)    \
            : [fi] "r"(fin)                                  \
            : "cc");                                         \
    h = mix(mix(mix(h, d), s), f & F_ARITH);                 \
    __asm__(FLAGS_IN "lock xadd" sfx " %[s], %[m]" FLAGS_OUT \
            : [m] "+m"(m), [s] "+" rc(s), [fo] "=&r"(f)      \
            : [fi] "r"(fin)                                  \
            : "cc", "memory");                               \
    h = mix(mix(mix(h, m), s), f & F_ARITH);                 \
  } while (0)

static uint32_t cmpxchg8b(uint32_t a, uint32_t b, uint32_t c, uint32_t fin) {
  uint64_t mem = (uint64_t)a << 32 | b;
  /* Equal half the time: EDX:EAX matches memory, ECX:EBX is stored. */
  uint32_t eax = c & 1 ? b : c, edx = a, f;
  __asm__(FLAGS_IN "lock cmpxchg8b %[m]" FLAGS_OUT
          : [m] "+m"(mem), "+a"(eax), "+d"(edx), [fo] "=&r"(f)
          : "b"(c), "c"(~a), [fi] "S"(fin)
          : "cc", "memory");
  return mix(mix(mix(mix((uint32_t)mem, (uint32_t)(mem >> 32)), eax), edx), f & F_ZF);
}

static uint32_t bswap_and_locked(uint32_t a, uint32_t b, uint32_t fin) {
  uint32_t x = a, m = b, f;
  __asm__("bswap %[x]" : [x] "+r"(x));
  __asm__(FLAGS_IN
          "lock addl %[x], %[m]\n\t"
          "lock incl %[m]\n\t"
          "lock orw $0x4000, %[m]\n\t"
          "lock xorb $0x81, %[m]\n\t"
          "lock btsl $7, %[m]\n\t"
          "lock negl %[m]" FLAGS_OUT
          : [m] "+m"(m), [fo] "=&r"(f)
          : [x] "r"(x), [fi] "r"(fin)
          : "cc", "memory");
  return mix(mix(x, m), f & F_ARITH);
}

uint32_t alu_exchange(void) {
  uint32_t h = 0x78636867u, seed = 0x79bdf13u;
  for (int i = 0; i < ITERATIONS; i++) {
    uint32_t a = pick(&seed), b = pick(&seed), c = pick(&seed);
    uint32_t fin = pick(&seed) & F_ARITH;
    XCHG("b", uint8_t, "q");
    XCHG("w", uint16_t, "r");
    XCHG("l", uint32_t, "r");
    uint32_t x = a, y = b;
    __asm__("xchgl %%eax, %%ebx" : "+a"(x), "+b"(y)); /* the one-byte 0x93 form */
    h = mix(mix(h, x), y);
    int equal = i & 1;
    CMPXCHG("b", uint8_t, "q", equal);
    CMPXCHG("w", uint16_t, "r", equal);
    CMPXCHG("l", uint32_t, "r", equal);
    h = mix(h, cmpxchg8b(a, b, c, fin));
    XADD("b", uint8_t, "q");
    XADD("w", uint16_t, "r");
    XADD("l", uint32_t, "r");
    h = mix(h, bswap_and_locked(a, b, fin));
  }
  return h;
}
