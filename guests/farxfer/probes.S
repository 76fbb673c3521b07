#include "probes.h"

#define SYS_EXIT 0

.macro probe name, insn:vararg
        .globl probe_\name, probe_\name\()_end
probe_\name:
        \insn
probe_\name\()_end:
.endm

        .text
        .globl kernel_probes
        .type kernel_probes, @function
kernel_probes:
        probe jmp_null, ljmp $0, $0
        probe jmp_empty, ljmp $SEL_EMPTY, $0
        probe call_empty, lcall $SEL_EMPTY, $0
        probe call_ldt, lcall $SEL_LDT_NONE, $0
        probe jmp_busy_tss, ljmp $SEL_TSS_BUSY, $0
        probe jmp_np, ljmp $SEL_NP_CODE, $0
        /* Far returns to what is not a code segment: the frame stays on the stack. */
        pushl $SEL_EMPTY
        pushl $0
        probe ret_empty, lret
        addl $8, %esp
        pushl $SEL_TSS_BUSY
        pushl $0
        probe ret_tss, lret
        addl $8, %esp
        pushfl
        pushl $SEL_EMPTY
        pushl $0
        probe iret_empty, iret
        addl $12, %esp
        ret
        .size kernel_probes, . - kernel_probes

        .globl call_gate
        .type call_gate, @function
call_gate:
        xorl %eax, %eax
        lcall $SEL_GATE, $0x12345678    /* the offset comes from the gate */
        ret
        .size call_gate, . - call_gate

        .globl gate_target
gate_target:
        movl %cs, %eax
        shll $16, %eax
        movw $0x9a7e, %ax
        lret

/* lret_to_user(entry, stack_top): saves what user_return restores (as user_run does). */
        .globl lret_to_user
        .type lret_to_user, @function
lret_to_user:
        pushl %ebp
        pushl %ebx
        pushl %esi
        pushl %edi
        pushfl
        movl %esp, user_kernel_esp
        movl 24(%esp), %eax             /* entry */
        movl 28(%esp), %ecx             /* stack_top */
        subl $8, %ecx
        pushl $0x23                     /* SS */
        pushl %ecx                      /* ESP */
        pushl $0x11111111               /* 8 bytes of parameters, released from both stacks */
        pushl $0x22222222
        pushl $0x1b                     /* CS */
        pushl %eax                      /* EIP */
        lret $8
        .size lret_to_user, . - lret_to_user

        .globl user_report
        .type user_report, @function
user_report:
        movl $SYS_EXIT, %eax
        movl %esp, %ebx
        int $0x80
        .size user_report, . - user_report

        .section .note.GNU-stack, "", @progbits
