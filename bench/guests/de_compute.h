/* The ring-3 compute loop of debench, shared with debench_native so that both run the same
   instructions: a multiply-xor-rotate hash over a 256-word table it also updates (loads and
   stores through the guest's data segment, no system call, no fault). As a text for a
   top-level asm block, so that the guest can place it on its page of directly executed code.

     uint32_t de_compute(uint32_t table[256], uint32_t iterations)   (cdecl, iterations > 0)

   returns the hash, which both programs print so their results can be compared. */
#ifndef BT86_BENCH_DE_COMPUTE_H
#define BT86_BENCH_DE_COMPUTE_H

#include <stdint.h>

enum { DE_COMPUTE_TABLE_WORDS = 256 };

#define DE_COMPUTE_ASM               \
  ".globl de_compute\n"              \
  ".type de_compute, @function\n"    \
  "de_compute:\n"                    \
  "  push %ebx\n"                    \
  "  push %esi\n"                    \
  "  mov 12(%esp), %esi\n"           \
  "  mov 16(%esp), %ecx\n"           \
  "  xor %edx, %edx\n"               \
  "  mov $0x12345678, %ebx\n"        \
  "1:\n"                             \
  "  mov (%esi,%edx,4), %eax\n"      \
  "  imul $0x9e3779b1, %eax, %eax\n" \
  "  xor %eax, %ebx\n"               \
  "  rol $5, %ebx\n"                 \
  "  add %ebx, (%esi,%edx,4)\n"      \
  "  inc %edx\n"                     \
  "  and $255, %edx\n"               \
  "  dec %ecx\n"                     \
  "  jnz 1b\n"                       \
  "  mov %ebx, %eax\n"               \
  "  pop %esi\n"                     \
  "  pop %ebx\n"                     \
  "  ret\n"                          \
  ".size de_compute, . - de_compute\n"

uint32_t de_compute(uint32_t* table, uint32_t iterations);

/* The table both programs start every run from. */
static inline void de_compute_init(uint32_t* table) {
  for (uint32_t i = 0; i < DE_COMPUTE_TABLE_WORDS; i++) table[i] = i * 0x01010101u + 1;
}

#endif
