#include "steps.h"

#define TF 0x100
#define SYS_EXIT 0

.macro tf_on
        pushfl
        orl $TF, (%esp)
        popfl
.endm
.macro tf_off
        pushfl
        andl $~TF, (%esp)
        popfl
.endm

        .text
        .globl steps_kernel, step_k_first, step_k_end
steps_kernel:
        pushl %ebx
        tf_on
        nop
step_k_first:
        addl $1, %eax
        sti
        cli
        movl %eax, %ebx
        leal 4(%ebx), %ebx
        tf_off
step_k_end:
        popl %ebx
        ret

        .globl steps_iret, step_iret_target, step_iret_second
steps_iret:
        pushfl
        orl $TF, (%esp)
        pushl %cs
        pushl $step_iret_target
        iret
step_iret_target:
        nop
step_iret_second:
        tf_off
        ret

        .globl steps_int, step_int_insn, step_int_after_nop
steps_int:
        tf_on
step_int_insn:
        int $INT_PROBE
        nop
step_int_after_nop:
        tf_off
        ret

        .globl steps_movss, step_ss_after_mov, step_ss_after_nop
steps_movss:
        tf_on
        movl %ss, %eax
        movl %eax, %ss
step_ss_after_mov:
        nop
step_ss_after_nop:
        tf_off
        ret

        .globl user_steps, user_steps_start, user_steps_int
user_steps:
user_steps_start:
        movl $USER_LOOPS, %ecx
1:      addl %ecx, %eax
        loop 1b
user_steps_int:
        movl $SYS_EXIT, %eax    /* stepped too; int $0x80 is not */
        int $0x80

        .globl user_popf_steps, user_popf_first, user_popf_end
user_popf_steps:
        tf_on
        nop
user_popf_first:
        nop
        tf_off
user_popf_end:
        movl $SYS_EXIT, %eax
        int $0x80

        .globl read_dr0_probe, probe_gd
read_dr0_probe:
        xorl %eax, %eax
probe_gd:
        movl %dr0, %eax
        ret

        .section .note.GNU-stack, "", @progbits
