/* The instructions that must fault or trap, each between probe_<name> and probe_<name>_end. */
#include "probes.h"

#define SYS_EXIT 0

.macro probe name, insn:vararg
        .globl probe_\name, probe_\name\()_end
probe_\name:
        \insn
probe_\name\()_end:
.endm

        .text
        .globl user_probes
        .type user_probes, @function
user_probes:
        movl $PROBE_ESI, %esi
        movl $PROBE_EDI, %edi
        movl $PROBE_EBP, %ebp

        xorl %ecx, %ecx
        movl $1, %eax
        xorl %edx, %edx
        probe u_de, divl %ecx
        probe u_bp, int3
        movl $0x7fffffff, %eax
        addl $1, %eax           /* OF = 1 */
        probe u_of, into
        probe u_ud, ud2
        probe u_cli, cli
        probe u_hlt, hlt
        probe u_in, inb $0x80, %al
        probe u_out, outb %al, $0x80
        probe u_int41, int $VECTOR_DPL0
        movl $SEL_KERNEL_DATA_RPL0, %eax
        probe u_ds_kernel, movl %eax, %ds
        movl $SEL_BEYOND_GDT, %eax
        probe u_ds_limit, movl %eax, %ds
        movl $SEL_NOT_PRESENT, %eax
        probe u_ds_np, movl %eax, %ds

        /* None of the loads may have changed DS: report it to the kernel. */
        movl %ds, %ebx
        movl $SYS_EXIT, %eax
        int $0x80
        .size user_probes, . - user_probes

        .globl kernel_probes
        .type kernel_probes, @function
kernel_probes:
        xorl %ecx, %ecx
        movl $1, %eax
        xorl %edx, %edx
        probe k_de, divl %ecx
        probe k_bp, int3
        probe k_ud, ud2
        ret
        .size kernel_probes, . - kernel_probes

        .section .note.GNU-stack, "", @progbits
