/* Setting and capturing the arithmetic flags around one instruction in inline assembly.
   Only flags the architecture defines for that instruction go into a checksum: undefined
   flags differ between CPUs and emulators and would make the oracle useless. */
#ifndef BT86_ALU_FLAGS_H
#define BT86_ALU_FLAGS_H

#define F_CF 0x001u
#define F_PF 0x004u
#define F_AF 0x010u
#define F_ZF 0x040u
#define F_SF 0x080u
#define F_OF 0x800u
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)
#define F_LOGIC (F_ARITH & ~F_AF) /* and/or/xor/test leave AF undefined */

/* Replaces the arithmetic flags with operand %[fi] and keeps the rest (IF, DF, AC) as they
   are, so the code behaves the same at any privilege level. %[fi] must be a register: an
   esp-relative memory operand would be read at the wrong offset while the copy is pushed. */
#define FLAGS_IN              \
  "pushfl\n\t"                \
  "andl $~0x8d5, (%%esp)\n\t" \
  "orl %[fi], (%%esp)\n\t"    \
  "popfl\n\t"

/* Stores the flags in output %[fo] (use "=&r" so it cannot share a register with inputs). */
#define FLAGS_OUT "\n\tpushfl\n\tpopl %[fo]"

#endif
