/* movs/stos/lods/cmps/scas in byte, word and dword sizes, single and with rep/repe/repne,
   going up (DF=0) and down (DF=1), including zero counts. */
#include "alu.h"
#include "flags.h"
#include "mix.h"

enum { ITERATIONS = 1500, BUF = 512, MAX_COUNT = 40 };

static uint8_t src[BUF], dst[BUF];

struct regs {
  uint32_t esi, edi, ecx, eax, flags;
};

/* Runs one string instruction with direction `df` from the given registers. Pointers come
   back as offsets from src/dst so the checksum does not depend on where the buffers are. */
#define STRING_OP(insn, r, s_off, d_off, count, acc, df, fin)                           \
  do {                                                                                  \
    uint8_t* esi_ = src + (s_off);                                                      \
    uint8_t* edi_ = dst + (d_off);                                                      \
    uint32_t ecx_ = (count), eax_ = (acc), f_;                                          \
    if (df)                                                                             \
      __asm__ volatile(FLAGS_IN "std\n\t" insn "\n\tcld" FLAGS_OUT                      \
                       : "+S"(esi_), "+D"(edi_), "+c"(ecx_), "+a"(eax_), [fo] "=&r"(f_) \
                       : [fi] "r"(fin)                                                  \
                       : "cc", "memory");                                               \
    else                                                                                \
      __asm__ volatile(FLAGS_IN insn FLAGS_OUT                                          \
                       : "+S"(esi_), "+D"(edi_), "+c"(ecx_), "+a"(eax_), [fo] "=&r"(f_) \
                       : [fi] "r"(fin)                                                  \
                       : "cc", "memory");                                               \
    (r).esi = (uint32_t)(esi_ - src);                                                   \
    (r).edi = (uint32_t)(edi_ - dst);                                                   \
    (r).ecx = ecx_;                                                                     \
    (r).eax = eax_;                                                                     \
    (r).flags = f_ & F_ARITH;                                                           \
  } while (0)

static uint32_t mix_regs(uint32_t h, const struct regs* r) {
  h = mix(h, r->esi);
  h = mix(h, r->edi);
  h = mix(h, r->ecx);
  h = mix(h, r->eax);
  return mix(h, r->flags);
}

static void fill(uint8_t* buf, uint32_t* seed) {
  for (int i = 0; i < BUF; i++) buf[i] = (uint8_t)(pick(seed) >> 3);
}

/* Start offsets: going down, start high enough that MAX_COUNT dwords stay in the buffer. */
static uint32_t start(uint32_t r, int df) {
  return (df ? BUF / 2 : 0) + (r & 63);
}

#define ALL_SIZES(body) \
  do {                  \
    body("b", 1);       \
    body("w", 2);       \
    body("l", 4);       \
  } while (0)

uint32_t alu_string(void) {
  uint32_t h = 0x73747269u, seed = 0x579bdf1u;
  fill(src, &seed);
  fill(dst, &seed);
  for (int i = 0; i < ITERATIONS; i++) {
    uint32_t r1 = pick(&seed), r2 = pick(&seed), r3 = pick(&seed);
    int df = (i >> 1) & 1;
    uint32_t so = start(r1, df), dof = start(r1 >> 8, df);
    uint32_t n = r2 % (MAX_COUNT + 1); /* zero included */
    uint32_t fin = r3 & F_ARITH;
    struct regs r;

#define MOVS(sz, w)                                     \
  STRING_OP("movs" sz, r, so, dof, n, r3, df, fin);     \
  h = mix_regs(h, &r);                                  \
  STRING_OP("rep movs" sz, r, so, dof, n, r3, df, fin); \
  h = mix_regs(h, &r);
    ALL_SIZES(MOVS);

#define STOS(sz, w)                                         \
  STRING_OP("stos" sz, r, so, dof + 7, n, r2, df, fin);     \
  h = mix_regs(h, &r);                                      \
  STRING_OP("rep stos" sz, r, so, dof + 3, n, r1, df, fin); \
  h = mix_regs(h, &r);
    if (i % 3 == 0) ALL_SIZES(STOS);

#define LODS(sz, w)                                         \
  STRING_OP("lods" sz, r, so, dof, n, r3, df, fin);         \
  h = mix_regs(h, &r);                                      \
  STRING_OP("rep lods" sz, r, so + 1, dof, n, r2, df, fin); \
  h = mix_regs(h, &r);
    ALL_SIZES(LODS);

    /* cmps: make dst equal to src around the start, then plant one difference (or none). */
    for (uint32_t k = 0; k < 2 * MAX_COUNT * 4; k++)
      dst[(df ? dof - k + 4 : dof + k) % BUF] = src[(df ? so - k + 4 : so + k) % BUF];
    if (r3 & 1) dst[(df ? dof - r2 % 160 : dof + r2 % 160) % BUF] ^= (uint8_t)(r3 >> 8 | 1);
#define CMPS(sz, w)                                       \
  STRING_OP("cmps" sz, r, so, dof, n, r3, df, fin);       \
  h = mix_regs(h, &r);                                    \
  STRING_OP("repe cmps" sz, r, so, dof, n, r3, df, fin);  \
  h = mix_regs(h, &r);                                    \
  STRING_OP("repne cmps" sz, r, so, dof, n, r3, df, fin); \
  h = mix_regs(h, &r);
    ALL_SIZES(CMPS);

    /* scas: look for (repne) or skip over (repe) the value that sits at a random distance. */
#define SCAS(sz, w)                                                            \
  do {                                                                         \
    uint32_t want = 0;                                                         \
    for (int k = 0; k < (w); k++)                                              \
      want |= (uint32_t)dst[(dof + k + (r2 % 9) * (w)) % BUF] << (8 * k);      \
    STRING_OP("scas" sz, r, so, dof, n, want, df, fin);                        \
    h = mix_regs(h, &r);                                                       \
    STRING_OP("repne scas" sz, r, so, dof, n, want, df, fin);                  \
    h = mix_regs(h, &r);                                                       \
    STRING_OP("repe scas" sz, r, so, dof, n, dst[dof] * 0x01010101u, df, fin); \
    h = mix_regs(h, &r);                                                       \
  } while (0);
    ALL_SIZES(SCAS);
    if (i % 7 == 0) fill(dst, &seed);
  }
  for (int i = 0; i < BUF; i++) h = mix(h, dst[i]);
  return h;
}
