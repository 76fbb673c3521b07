/* Code run under EFLAGS.TF (steps.S): each sequence is bracketed by labels so the #DB handler's
   saved EIPs can be checked against the instruction boundaries. */
#ifndef BT86_DEBUG_STEPS_H
#define BT86_DEBUG_STEPS_H

#define INT_PROBE 0x81 /* a trap gate (DPL 0) whose handler records its EFLAGS */
#define USER_LOOPS 5

#ifndef __ASSEMBLER__
#include <stdint.h>
/* Ring 0: popf sets TF, then 6 instructions (nop, add, sti, cli, mov, lea), pushf/and/popf
   clears it: 9 steps, the first after step_k_first, the last at step_k_end. */
void steps_kernel(void);
extern const char step_k_first[], step_k_end[];
/* Ring 0: iret to step_iret_target with TF set: no step after the iret itself, the first
   after the instruction at step_iret_target (ends at step_iret_second). 2 more to clear TF. */
void steps_iret(void);
extern const char step_iret_target[], step_iret_second[];
/* Ring 0: TF on, int $INT_PROBE (not stepped, handler not stepped), nop (stepped: ends at
   step_int_after_nop), then TF off (3 steps). */
void steps_int(void);
extern const char step_int_insn[], step_int_after_nop[];
/* Ring 0: TF on, mov ss (no step after it: step_ss_after_mov), nop (ends at step_ss_after_nop),
   then TF off (3 steps). */
void steps_movss(void);
extern const char step_ss_after_mov[], step_ss_after_nop[];
/* Ring 3, entered with TF set by user_run's iret: mov $USER_LOOPS, %ecx; then add/loop
   USER_LOOPS times; mov $SYS_EXIT, %eax; int $0x80. Steps: 2 + 2 * USER_LOOPS. */
void user_steps(void);
extern const char user_steps_start[], user_steps_int[];
/* Ring 3 without TF: popf sets it, 2 nops, pushf/and/popf clear it (5 steps), SYS_EXIT. */
void user_popf_steps(void);
extern const char user_popf_first[], user_popf_end[];
/* mov %dr0, %eax at probe_gd (a fault while DR7.GD is set). */
uint32_t read_dr0_probe(void);
extern const char probe_gd[];
#endif

#endif
