/* One entry stub per vector, all 16 bytes apart from isr_stubs so the IDT code can compute
   the address of any of them. Each pushes a dummy error code when the CPU does not push one,
   then the vector, so every handler sees the same trap_frame. */
#define SEL_KERNEL_DATA 0x10
#define STUB_SIZE 16

/* The exceptions for which the CPU pushes an error code. */
.macro stub vector
9:
        .if (\vector == 8) || ((\vector >= 10) && (\vector <= 14)) || (\vector == 17) || (\vector == 21) || (\vector == 29) || (\vector == 30)
        .else
        pushl $0
        .endif
        pushl $\vector
        jmp isr_common
        /* Pads to STUB_SIZE; the assembler fails if the stub is longer. */
        .org 9b + STUB_SIZE, 0xcc
.endm

        .text
        .p2align 4
        .globl isr_stubs
isr_stubs:
        .altmacro
        .set vector, 0
        .rept 256
        stub %vector
        .set vector, vector + 1
        .endr
        .noaltmacro

isr_common:
        pusha
        /* mov, not push, from the segment registers: a 32-bit push of a selector may leave the
           upper half of the slot unchanged. */
        movl %ds, %eax
        pushl %eax
        movl %es, %eax
        pushl %eax
        movl %fs, %eax
        pushl %eax
        movl %gs, %eax
        pushl %eax
        /* Ring-3 selectors are still loaded; the C code runs with the kernel's. The C ABI also
           wants DF clear, whatever the interrupted code left there. */
        movl $SEL_KERNEL_DATA, %eax
        movl %eax, %ds
        movl %eax, %es
        movl %eax, %fs
        movl %eax, %gs
        cld
        pushl %esp
        call trap_dispatch
        addl $4, %esp
        popl %gs
        popl %fs
        popl %es
        popl %ds
        popa
        addl $8, %esp   /* vector and error code */
        iret

        .section .note.GNU-stack, "", @progbits
