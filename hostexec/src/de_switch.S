/* The world switch into direct-executed guest user code (DESIGN §4.2, HOST-MECHANISMS §1):
   bt86_de_enter saves the monitor's callee-saved registers, FS base and FPU state, and enters
   32-bit compatibility mode with iretq. Guest code comes back only through a signal: the
   direct-execution claimer rewrites the signal context to resume at bt86_de_exit in 64-bit mode
   on the monitor stack, with rdi = the DeContext. Offsets: see de_context.h. */

        .text
        .p2align 4
        .globl bt86_de_enter, bt86_de_window, bt86_de_iretq, bt86_de_bail, bt86_de_exit
        .hidden bt86_de_enter, bt86_de_window, bt86_de_iretq, bt86_de_bail, bt86_de_exit
        .type bt86_de_enter, @function
bt86_de_enter:
        push %rbp
        push %rbx
        push %r12
        push %r13
        push %r14
        push %r15
        mov %rsp, 56(%rdi)
        mov %fs:0, %rax         /* the x86-64 TCB points to itself: the host FS base */
        mov %rax, 64(%rdi)
        /* The monitor's whole extended state (x87, SSE, AVX, AVX-512 masks and upper halves,
           PKRU, ...) goes to host_xsave; then every component is reset from init_xsave, so
           nothing of the monitor's reaches the guest, and the guest's x87/SSE state is loaded. */
        mov 656(%rdi), %eax
        mov 660(%rdi), %edx
        mov 640(%rdi), %rcx
        xsave64 (%rcx)
        mov 648(%rdi), %rcx
        xrstor64 (%rcx)
        fxrstor 128(%rdi)        /* the 32-bit format of the vCPU image (cpu/fpu_state.h) */
        /* From here to the iretq, an asynchronous signal is diverted to bt86_de_bail by the
           claimer, so a kick that lands after this check is not lost. */
bt86_de_window:
        mov 80(%rdi), %rax
        cmpw $0, (%rax)
        jne 2f
        movzwl 42(%rdi), %eax   /* SS */
        push %rax
        mov 16(%rdi), %eax      /* ESP */
        push %rax
        mov 36(%rdi), %eax      /* RFLAGS */
        push %rax
        movzwl 40(%rdi), %eax   /* CS */
        push %rax
        mov 32(%rdi), %eax      /* EIP */
        push %rax
        /* DS and ES mean nothing in 64-bit mode; FS and GS only matter with an fs:/gs: prefix,
           which nothing below uses. */
        mov 44(%rdi), %ax
        mov %ax, %ds
        mov 46(%rdi), %ax
        mov %ax, %es
        mov 48(%rdi), %ax
        mov %ax, %fs
        mov 50(%rdi), %ax
        mov %ax, %gs
        /* The guest cannot read r8-r15 in compat mode; clear them anyway so no monitor pointer
           is left in a register. */
        xor %r8d, %r8d
        xor %r9d, %r9d
        xor %r10d, %r10d
        xor %r11d, %r11d
        xor %r12d, %r12d
        xor %r13d, %r13d
        xor %r14d, %r14d
        xor %r15d, %r15d
        mov 0(%rdi), %eax
        mov 4(%rdi), %ecx
        mov 8(%rdi), %edx
        mov 12(%rdi), %ebx
        mov 20(%rdi), %ebp
        mov 24(%rdi), %esi
        mov 28(%rdi), %edi
bt86_de_iretq:
        iretq

2:      movl $3, 52(%rdi)       /* kBailed */
bt86_de_bail:                   /* rdi = DeContext (the claimer sets it when it diverts here) */
        mov 56(%rdi), %rsp
        jmp 3f

bt86_de_exit:                   /* rdi = DeContext, rsp = the saved monitor rsp, CS = 0x33 */
        /* eax = the host's PKRU, esi = whether there is one (the claimer sets both): the
           guest's protection-key rights go before this code touches memory. */
        test %esi, %esi
        jz 6f
        xor %ecx, %ecx
        xor %edx, %edx
        wrpkru
6:      mov %ds, %ax
        mov %ax, 72(%rdi)
        mov %es, %ax
        mov %ax, 74(%rdi)
        mov %fs, %ax
        mov %ax, 76(%rdi)
        mov %gs, %ax
        mov %ax, 78(%rdi)
3:      xor %eax, %eax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %fs
        mov %ax, %gs
        cmpb $0, bt86_have_fsgsbase(%rip)
        je 4f
        mov 64(%rdi), %rax
        wrfsbase %rax
        jmp 5f
4:      mov %rdi, %r12          /* arch_prctl(ARCH_SET_FS, host base): rdi and rsi are args */
        mov 64(%rdi), %rsi
        mov $0x1002, %edi
        mov $158, %eax
        syscall
        mov %r12, %rdi
5:      fxsave 128(%rdi)
        mov 656(%rdi), %eax
        mov 660(%rdi), %edx
        mov 640(%rdi), %rcx
        xrstor64 (%rcx)

        pop %r15
        pop %r14
        pop %r13
        pop %r12
        pop %rbx
        pop %rbp
        ret
        .size bt86_de_enter, . - bt86_de_enter

        .section .note.GNU-stack, "", @progbits
