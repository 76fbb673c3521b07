/* The stub's entry point and its one system-call instruction. The seccomp filter allows a
   system call only from here (its instruction_pointer is de_stub_syscall_next), so every system
   call the stub makes goes through de_stub_syscall. */
        .text
        .globl _start
        .type _start, @function
_start:
        mov %rsp, %rdi                  /* argc, argv, envp, auxv: read before they go */
        lea de_stub_stack_top(%rip), %rsp /* the kernel's stack is unmapped with the rest */
        call de_stub_main
        ud2
        .size _start, . - _start

/* long de_stub_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6) */
        .globl de_stub_syscall, de_stub_syscall_insn, de_stub_syscall_next
        .type de_stub_syscall, @function
de_stub_syscall:
        mov %rdi, %rax
        mov %rsi, %rdi
        mov %rdx, %rsi
        mov %rcx, %rdx
        mov %r8, %r10
        mov %r9, %r8
        mov 8(%rsp), %r9
de_stub_syscall_insn:
        syscall
de_stub_syscall_next:
        ret
        .size de_stub_syscall, . - de_stub_syscall

        .bss
        .balign 64
de_stub_stack:
        .skip 65536
de_stub_stack_top:

        .section .note.GNU-stack, "", @progbits
