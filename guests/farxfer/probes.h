/* Far transfers that fault (each between probe_<name> and probe_<name>_end) and the ones that
   work: a same-privilege call gate and far returns to ring 3. */
#ifndef BT86_FARXFER_PROBES_H
#define BT86_FARXFER_PROBES_H

#define EMPTY_INDEX 6 /* a null descriptor in the GDT */
#define SEL_EMPTY 0x30
#define GATE_INDEX 7 /* a 32-bit call gate, DPL 0, to gate_target */
#define SEL_GATE 0x38
#define NP_CODE_INDEX 8 /* a not-present ring-0 code segment */
#define SEL_NP_CODE 0x40
#define SEL_LDT_NONE 0x0c /* TI = 1: no LDT was ever loaded */
#define SEL_TSS_BUSY 0x28 /* the loaded TSS */

#ifndef __ASSEMBLER__
#include <stdint.h>
#define PROBE(name) extern const char probe_##name[], probe_##name##_end[]
PROBE(jmp_null);
PROBE(jmp_empty);
PROBE(call_empty);
PROBE(call_ldt);
PROBE(jmp_busy_tss);
PROBE(jmp_np);
PROBE(ret_empty);
PROBE(ret_tss);
PROBE(iret_empty);
#undef PROBE

/* Ring 0: runs every probe in order. */
void kernel_probes(void);
/* Calls through the call gate; returns what gate_target left in EAX. */
uint32_t call_gate(void);
extern const char gate_target[];
/* lret $8 to ring 3 (CS 0x1b, SS 0x23) at `entry` with ESP = stack_top - 8 before the pop of
   the 8 parameter bytes, leaving DS/ES/FS/GS as the kernel has them. Returns what ring 3
   passed to SYS_EXIT (user_return). */
uint32_t lret_to_user(void (*entry)(void), uint32_t stack_top);
/* Ring 3: reports its segment registers and ESP through SYS_EXIT's frame. */
void user_report(void);
#endif

#endif
