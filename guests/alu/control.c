/* Near calls and returns (including ret imm16), direct and indirect jumps and calls through
   registers and memory, a switch the compiler turns into a jump table, and
   loop/loope/loopne/jecxz/jcxz. */
#include "alu.h"
#include "flags.h"
#include "mix.h"

enum { ITERATIONS = 4000 };

/* Leaf routines with a register convention (value in and out in EAX) so inline assembly can
   call them without the C ABI; alu_pop8 returns with `ret $8`. */
__asm__(
    ".text\n"
    ".p2align 4\n"
    "alu_add3: leal 3(%eax), %eax\n\t ret\n"
    "alu_rol5: roll $5, %eax\n\t ret\n"
    "alu_not: notl %eax\n\t ret\n"
    "alu_mul7: imull $7, %eax, %eax\n\t ret\n"
    "alu_pop8: addl 4(%esp), %eax\n\t xorl 8(%esp), %eax\n\t ret $8\n");

__asm__(
    ".section .rodata\n"
    ".p2align 2\n"
    "alu_routines: .long alu_add3, alu_rol5, alu_not, alu_mul7\n"
    ".text\n");

/* Calls through EAX-convention routines: direct, through a register, through memory indexed
   by a register, and through a pointer held in memory; jumps through a register and through
   a table. The jump table names labels of this asm block, so it must exist exactly once. */
__attribute__((noinline, noclone)) static uint32_t indirect(uint32_t a, uint32_t b) {
  uint32_t x = a, t;
  uint32_t idx = b & 3;
  __asm__(
      "call alu_add3\n\t"
      "movl $alu_rol5, %[t]\n\t"
      "call *%[t]\n\t"
      "call *alu_routines(,%[i],4)\n\t"
      "leal alu_routines+8, %[t]\n\t"
      "call *(%[t])\n\t"
      "pushl %[i]\n\t" /* saved across the call */
      "pushl %[i]\n\t"
      "pushl $0x0f0f0f0f\n\t"
      "call alu_pop8\n\t" /* ret $8 pops both arguments */
      "popl %[i]\n\t"
      "movl $1f, %[t]\n\t"
      "jmp *%[t]\n\t"
      "ud2\n"
      "1:\n\t"
      "jmp *alu_jump_targets(,%[i],4)\n"
      ".pushsection .rodata\n"
      ".p2align 2\n"
      "alu_jump_targets: .long alu_jt0, alu_jt1, alu_jt2, alu_jt3\n"
      ".popsection\n"
      "alu_jt0: addl $100, %[x]\n\t"
      "jmp 2f\n"
      "alu_jt1: subl $200, %[x]\n\t"
      "jmp 2f\n"
      "alu_jt2: xorl $300, %[x]\n\t"
      "jmp 2f\n"
      "alu_jt3: shll $1, %[x]\n"
      "2:"
      : [x] "+a"(x), [t] "=&r"(t), [i] "+r"(idx)
      :
      : "cc", "memory");
  return mix(x, idx);
}

/* The C ABI version of ret imm16: stdcall callees pop their arguments. External linkage
   keeps gcc from switching a local function to its own register convention. */
__attribute__((noinline, stdcall)) uint32_t alu_stdcall_mix(uint32_t a, uint32_t b, uint32_t c);
__attribute__((noinline, stdcall)) uint32_t alu_stdcall_mix(uint32_t a, uint32_t b, uint32_t c) {
  return (a ^ (b << 3)) + c * 5;
}

/* Function pointers as the compiler calls them. */
__attribute__((noinline)) static uint32_t twice(uint32_t v) {
  return v * 2 + 1;
}
__attribute__((noinline)) static uint32_t swap_halves(uint32_t v) {
  return v << 16 | v >> 16;
}
__attribute__((noinline)) static uint32_t reverse_bits(uint32_t v) {
  uint32_t r = 0;
  for (int i = 0; i < 32; i++, v >>= 1) r = r << 1 | (v & 1);
  return r;
}
static uint32_t (*const c_routines[3])(uint32_t) = {twice, swap_halves, reverse_bits};

/* Dense cases: gcc emits `jmp *table(,%reg,4)` (guest.alu.has_jump_table checks it). */
__attribute__((noinline)) static uint32_t dispatch(uint32_t op, uint32_t v) {
  switch (op) {
    case 0:
      return v + 0x11;
    case 1:
      return v ^ 0x2222;
    case 2:
      return v * 3;
    case 3:
      return v >> 3;
    case 4:
      return v << 5;
    case 5:
      return ~v;
    case 6:
      return v - 0x6666;
    case 7:
      return v | 0x70000007;
    case 8:
      return v & 0x0ff0ff0f;
    case 9:
      return (v << 7) | (v >> 25);
    case 10:
      return v / 10;
    case 11:
      return v % 11;
    default:
      return v + op;
  }
}

static uint32_t loops(uint32_t a, uint32_t b) {
  uint32_t h = 0;
  /* loop: count down ECX (0 means 2^32 iterations, so never start at 0). */
  uint32_t n = (a & 31) + 1, acc = 0;
  __asm__(
      "1: addl %%ecx, %[acc]\n\t"
      "loop 1b"
      : "+c"(n), [acc] "+r"(acc)
      :
      : "cc");
  h = mix(mix(h, n), acc);
  /* loopne: scan for a byte; loope: skip equal bytes. Both stop on ECX reaching 0 too. */
  uint8_t bytes[16];
  for (int i = 0; i < 16; i++) bytes[i] = (uint8_t)((b >> (i & 7) * 4) & 0xf);
  uint32_t target = a & 0xf, i = 0;
  n = 16;
  __asm__(
      "1: cmpb %[t], (%[p],%[i])\n\t"
      "leal 1(%[i]), %[i]\n\t"
      "loopne 1b"
      : "+c"(n), [i] "+r"(i)
      : [t] "q"((uint8_t)target), [p] "r"(bytes), "m"(bytes)
      : "cc");
  h = mix(mix(h, n), i);
  n = 16;
  i = 0;
  __asm__(
      "1: cmpb %[t], (%[p],%[i])\n\t"
      "leal 1(%[i]), %[i]\n\t"
      "loope 1b"
      : "+c"(n), [i] "+r"(i)
      : [t] "q"(bytes[0]), [p] "r"(bytes), "m"(bytes)
      : "cc");
  h = mix(mix(h, n), i);
  /* jecxz/jcxz: taken on a zero (E)CX only; jcxz looks at CX alone. */
  uint32_t c = (a & 1) ? 0 : b, r = 0;
  __asm__(
      "jecxz 1f\n\t"
      "orl $1, %[r]\n"
      "1: andl $0xffff0000, %%ecx\n\t"
      "jcxz 2f\n\t"
      "orl $2, %[r]\n"
      "2:"
      : "+c"(c), [r] "+r"(r)
      :
      : "cc");
  h = mix(mix(h, r), c);
  return h;
}

uint32_t alu_control(void) {
  uint32_t h = 0x63746c00u, seed = 0xace0246u;
  for (int i = 0; i < ITERATIONS; i++) {
    uint32_t a = pick(&seed), b = pick(&seed), c = pick(&seed);
    h = mix(h, indirect(a, b));
    h = mix(h, alu_stdcall_mix(a, b, c));
    h = mix(h, c_routines[c % 3](a));
    h = mix(h, dispatch(b % 14, a));
    h = mix(h, loops(a, b));
  }
  return h;
}
