/* The alu workload: deterministic integer-instruction coverage for the binary translator.
   Each section returns a checksum of its results and arithmetic flags; the same objects run
   as a guest kernel and as a native 32-bit Linux program, which must print identical lines. */
#ifndef BT86_ALU_H
#define BT86_ALU_H

#include <stdint.h>

/* Provided by the shim (guest: serial port, native: stdio). Prints "alu.<name>: 0x%08x". */
void alu_report(const char* name, uint32_t checksum);

/* Runs every section in order and reports each, then the total. */
void alu_main(void);

uint32_t alu_arith(void);
uint32_t alu_shift(void);
uint32_t alu_bitops(void);
uint32_t alu_muldiv(void);
uint32_t alu_string(void);
uint32_t alu_cond(void);
uint32_t alu_exchange(void);
uint32_t alu_movx(void);
uint32_t alu_stack(void);
uint32_t alu_control(void);
uint32_t alu_bcd(void);
uint32_t alu_misc(void);
uint32_t alu_recursion(void);
uint32_t alu_int64(void);

#endif
