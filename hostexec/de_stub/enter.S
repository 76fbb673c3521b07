/* Entering code in the stub and coming back (docs/ARCHITECTURE.md, "Direct execution"): the
   world switch of the confined process. de_stub_enter loads the state in the control page and
   iretq's to it; the code comes back only through a signal, whose handler (signals.c) records
   the exit and resumes at de_stub_exit on the stub's stack. Nothing of the monitor is here to
   protect: the switch keeps only the stub's own registers and stack. */
#include "de_stub_abi.h"

        .text
        .p2align 4
        .globl de_stub_enter, de_stub_window, de_stub_iretq, de_stub_bail, de_stub_exit
        .globl de_stub_restorer
        .type de_stub_enter, @function
/* long de_stub_enter(void): 0 once the entered code has exited (the record says how). */
de_stub_enter:
        push %rbp
        push %rbx
        push %r12
        push %r13
        push %r14
        push %r15
        mov %rsp, de_stub_saved_rsp(%rip)
        movabs $DE_STUB_CONTROL, %rdi
        movl $1, de_stub_entered(%rip)
        /* From here to the iretq a signal is diverted to de_stub_bail by the handler: a kick
           (one before the check below has set the word it reads), or a fault of the entry
           itself (an image fxrstor refuses, a selector the CPU refuses). */
de_stub_window:
        /* Every extended-state component the host enabled (AVX, AVX-512, PKRU, ...) to its reset
           state, so nothing one guest process left there reaches the next one; then the
           guest's x87/SSE image, in the 32-bit format the vCPU keeps. */
        mov de_stub_xmask(%rip), %eax
        mov de_stub_xmask+4(%rip), %edx
        test %eax, %eax
        jz 1f
        lea de_stub_xinit(%rip), %rcx
        xrstor64 (%rcx)
1:      fxrstor DE_OFF_FPU(%rdi)
        cmpl $0, DE_OFF_KICK(%rdi)
        jne 2f
        movzwl DE_OFF_REGS_SEL+2(%rdi), %eax    /* SS */
        push %rax
        push DE_OFF_REGS+32(%rdi)               /* RSP */
        push DE_OFF_REGS_RFLAGS(%rdi)
        movzwl DE_OFF_REGS_SEL(%rdi), %eax      /* CS */
        push %rax
        push DE_OFF_REGS_RIP(%rdi)
        mov DE_OFF_REGS_SEL+4(%rdi), %ax
        mov %ax, %ds
        mov DE_OFF_REGS_SEL+6(%rdi), %ax
        mov %ax, %es
        mov DE_OFF_REGS_SEL+8(%rdi), %ax
        mov %ax, %fs
        mov DE_OFF_REGS_SEL+10(%rdi), %ax
        mov %ax, %gs
        xor %r8d, %r8d
        xor %r9d, %r9d
        xor %r10d, %r10d
        xor %r11d, %r11d
        xor %r12d, %r12d
        xor %r13d, %r13d
        xor %r14d, %r14d
        xor %r15d, %r15d
        mov DE_OFF_REGS+0(%rdi), %rax
        mov DE_OFF_REGS+8(%rdi), %rcx
        mov DE_OFF_REGS+16(%rdi), %rdx
        mov DE_OFF_REGS+24(%rdi), %rbx
        mov DE_OFF_REGS+40(%rdi), %rbp
        mov DE_OFF_REGS+48(%rdi), %rsi
        mov DE_OFF_REGS+56(%rdi), %rdi
de_stub_iretq:
        iretq

2:      movabs $DE_STUB_CONTROL, %rdi
        movl $DE_EXIT_BAILED, DE_OFF_EXIT(%rdi)
de_stub_bail:                   /* the handler diverts here from the window (exit recorded) */
        movabs $DE_STUB_CONTROL, %rdi
        movl $0, de_stub_entered(%rip)
        mov de_stub_saved_rsp(%rip), %rsp
        jmp 3f

/* From the handler: rsp = the saved stack, CS = 0x33, esi = whether the host has PKU. The
   code may have set PKRU to deny the stub's own pages: it goes first, before any access. */
de_stub_exit:
        test %esi, %esi
        jz 6f
        xor %eax, %eax
        xor %ecx, %ecx
        xor %edx, %edx
        wrpkru
6:      movabs $DE_STUB_CONTROL, %rdi
        mov %ds, DE_OFF_REGS_SEL+4(%rdi)
        mov %es, DE_OFF_REGS_SEL+6(%rdi)
        mov %fs, DE_OFF_REGS_SEL+8(%rdi)
        mov %gs, DE_OFF_REGS_SEL+10(%rdi)
3:      xor %eax, %eax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %fs
        mov %ax, %gs
        fxsave DE_OFF_FPU(%rdi)
        pop %r15
        pop %r14
        pop %r13
        pop %r12
        pop %rbx
        pop %rbp
        xor %eax, %eax
        ret
        .size de_stub_enter, . - de_stub_enter

/* The handlers' return path: rt_sigreturn through the stub's one system-call instruction (the
   only place the filter allows it). The kernel restores every register from the frame, so the
   `ret` after that instruction never runs for it. */
        .type de_stub_restorer, @function
de_stub_restorer:
        mov $15, %eax           /* __NR_rt_sigreturn */
        jmp de_stub_syscall_insn
        .size de_stub_restorer, . - de_stub_restorer

        .bss
        .balign 8
        .globl de_stub_saved_rsp, de_stub_entered
de_stub_saved_rsp:
        .skip 8
de_stub_entered:
        .skip 4

        .section .note.GNU-stack, "", @progbits
