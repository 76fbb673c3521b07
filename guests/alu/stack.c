/* push/pop of registers, immediates, memory and 16-bit values; pusha/popa (32 and 16 bit);
   pushf/popf; enter (nesting levels 0..3) and leave. Stack addresses only enter the checksum
   as differences, so guest and native stacks may live anywhere. */
#include "alu.h"
#include "flags.h"
#include "mix.h"

enum { ITERATIONS = 4000 };

static uint32_t push_pop(uint32_t a, uint32_t b) {
  uint32_t m = b, x, y, z, depth;
  uint16_t w;
  __asm__(
      "movl %%esp, %[d]\n\t"
      "pushl %[a]\n\t"
      "pushl $0x7b\n\t"
      "pushl $-0x12345678\n\t"
      "pushl %[m]\n\t"
      "pushw %w[a]\n\t"
      "pushw $0x1234\n\t"
      "subl %%esp, %[d]\n\t"
      "popl %[x]\n\t" /* the two pushed words as one dword */
      "popl %[m]\n\t"
      "popl %[y]\n\t"
      "addl %[y], %[x]\n\t"
      "popl %[y]\n\t"
      "popw %[w]\n\t" /* the low half of the first push */
      "popw %w[z]"    /* and its high half */
      : [d] "=&r"(depth), [x] "=&r"(x), [y] "=&r"(y), [z] "=&r"(z), [w] "=&r"(w), [m] "+m"(m)
      : [a] "r"(a));
  return mix(mix(mix(mix(mix(depth, x), y), z & 0xffff), w), m);
}

/* pushal/popal and pushaw/popaw with values in every register. The block borrows EBP, so it
   saves EBP itself and moves values in and out through memory addressed by EAX. */
static uint32_t push_all(uint32_t seed_value) {
  uint32_t io[10];
  for (int i = 0; i < 10; i++) io[i] = seed_value * (uint32_t)(2 * i + 1) + (uint32_t)i;
  uint32_t* p = io;
  __asm__ volatile(
      "pushl %%ebp\n\t"
      "pushl %%eax\n\t"
      "movl 4(%%eax), %%ebx\n\t"
      "movl 8(%%eax), %%ecx\n\t"
      "movl 16(%%eax), %%esi\n\t"
      "movl 24(%%eax), %%ebp\n\t"
      "movl 28(%%eax), %%edi\n\t"
      "movl 0(%%eax), %%eax\n\t"
      "movl %%esp, %%edx\n\t"
      "pushal\n\t"
      /* The pushed ESP is the value before pushal; popal skips that slot. Leave the
         difference (0) in the EDX slot. */
      "movl 20(%%esp), %%edx\n\t"
      "subl 12(%%esp), %%edx\n\t"
      "movl %%edx, 20(%%esp)\n\t"
      "movl $0x11111111, 12(%%esp)\n\t"
      "notl %%eax\n\t"
      "negl %%ebx\n\t"
      "xorl %%ecx, %%ecx\n\t"
      "movl %%ecx, %%ebp\n\t"
      "popal\n\t"
      "addl %%edx, %%ebx\n\t"
      "pushw %%cx\n\t"
      "pushw %%ax\n\t"
      "pushaw\n\t"
      "incl %%eax\n\t" /* popaw restores only AX: a carry into the high half stays */
      "notl %%esi\n\t"
      "popaw\n\t"
      "popl %%ecx\n\t" /* the two words pushed before pushaw */
      "popl %%edx\n\t" /* the io pointer */
      "movl %%eax, 32(%%edx)\n\t"
      "movl %%ecx, 36(%%edx)\n\t"
      "movl %%ebx, 4(%%edx)\n\t"
      "movl %%esi, 16(%%edx)\n\t"
      "movl %%edi, 28(%%edx)\n\t"
      "movl %%ebp, 24(%%edx)\n\t"
      "popl %%ebp"
      : "+a"(p)
      :
      : "ebx", "ecx", "edx", "esi", "edi", "memory", "cc");
  uint32_t h = 0;
  for (int i = 0; i < 10; i++) h = mix(h, io[i]);
  return h;
}

/* popf of every arithmetic-flag pattern, and DF, read back with pushf. */
static uint32_t flags_roundtrip(uint32_t fin) {
  uint32_t f1, f2;
  __asm__(
      "pushfl\n\t"
      "pushfl\n\t"
      "andl $~0x8d5, (%%esp)\n\t"
      "orl %[fi], (%%esp)\n\t"
      "popfl\n\t"
      "pushfl\n\t"
      "popl %[f1]\n\t"
      "std\n\t"
      "pushfl\n\t"
      "popl %[f2]\n\t"
      "popfl"
      : [f1] "=&r"(f1), [f2] "=&r"(f2)
      : [fi] "r"(fin)
      : "cc");
  return mix(f1 & F_ARITH, f2 & (F_ARITH | 0x400u));
}

/* enter with nesting level L pushes EBP, copies L-1 frame pointers from the old frame
   ([old EBP - 4], [old EBP - 8], ...), then pushes the new frame pointer if L > 0. The old
   frame here holds A at [EBP - 4] and B at [EBP - 8]. */
#define ENTER(size, level)                                                                   \
  do {                                                                                       \
    uint32_t x = a, y = b, allocated, saved, frame;                                          \
    __asm__(                                                                                 \
        "pushl %%ebp\n\t"                                                                    \
        "pushl %[x]\n\t"                                                                     \
        "pushl %[y]\n\t"                                                                     \
        "pushl $0x5ca1ab1e\n\t"                                                              \
        "leal 12(%%esp), %%ebp\n\t"                                                          \
        "movl %%esp, %[n]\n\t"                                                               \
        "enter $" #size ", $" #level                                                         \
        "\n\t"                                                                               \
        "subl %%esp, %[n]\n\t"                                                               \
        "movl -4(%%ebp), %[x]\n\t"                                                           \
        "movl -8(%%ebp), %[y]\n\t"                                                           \
        "movl (%%ebp), %[s]\n\t"                                                             \
        "subl %%ebp, %[s]\n\t"                                                               \
        "movl %%ebp, %[f]\n\t"                                                               \
        "leave\n\t"                                                                          \
        "addl $12, %%esp\n\t"                                                                \
        "popl %%ebp"                                                                         \
        : [x] "+a"(x), [y] "+d"(y), [n] "=&c"(allocated), [s] "=&S"(saved), [f] "=&D"(frame) \
        :                                                                                    \
        : "memory");                                                                         \
    /* Slots that hold the new frame pointer are compared relative to it; slots that are     \
       fresh locals (never written) are left out. */                                         \
    uint32_t r0 = (level) == 0 ? 0 : (level) == 1 ? x - frame : x;                           \
    uint32_t r1 = (level) < 2 ? 0 : (level) == 2 ? y - frame : y;                            \
    h = mix(mix(mix(mix(h, r0), r1), allocated), saved);                                     \
  } while (0)

uint32_t alu_stack(void) {
  uint32_t h = 0x73746163u, seed = 0x9bdf135u;
  for (int i = 0; i < ITERATIONS; i++) {
    uint32_t a = pick(&seed), b = pick(&seed);
    h = mix(h, push_pop(a, b));
    h = mix(h, push_all(a));
    h = mix(h, flags_roundtrip(b & F_ARITH));
    ENTER(0, 0);
    ENTER(16, 0);
    ENTER(8, 1);
    ENTER(4, 2);
    ENTER(0x100, 3);
  }
  return h;
}
