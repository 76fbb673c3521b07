/* Code whose instruction addresses the checks need: ring-0 load/store probes, a function alone
   in a page for the higher-half test and the only user-accessible code page. The two page-sized
   pieces are sections of their own ("orphans" to link.ld, placed after .text), page aligned and
   padded to a page, so unmapping or opening up their page touches nothing else. */
#include "paging_guest.h"

#define SYS_EXIT 0
#define PAGE 4096

        .text
        .globl kread, kread_insn
        .type kread, @function
kread:
        movl 4(%esp), %edx
kread_insn:
        movl (%edx), %eax
        ret
        .size kread, . - kread

        .globl kwrite, kwrite_insn
        .type kwrite, @function
kwrite:
        movl 4(%esp), %edx
        movl 8(%esp), %eax
kwrite_insn:
        movl %eax, (%edx)
        ret
        .size kwrite, . - kwrite

        .section hh_text, "ax", @progbits
        .p2align 12
        .globl hh_run
        .type hh_run, @function
hh_run:
        /* The address this instance runs at: the return address of a call to the next line. */
        call 1f
1:      popl %eax
        subl $(1b - hh_run), %eax
        movl 4(%esp), %edx
        movl 8(%esp), %ecx
        pushl %ebx
        /* The same stack through its higher-half alias: a push and a pop must go through it. */
        movl %esp, %ebx
        addl $KERNEL_HIGH, %esp
        pushl %ecx
        xorl %ecx, %ecx
        popl %ecx
        movl %ebx, %esp
        movl %ecx, (%edx)
        popl %ebx
        ret
        .size hh_run, . - hh_run
        .balign PAGE, 0xcc

        .section user_text, "ax", @progbits
        .p2align 12
        /* Entered by user_run with (op, linear, value) above the return address: op 0 loads
           from linear and exits with the value, op 1 stores value there. */
        .globl user_access, user_read_insn, user_write_insn
        .type user_access, @function
user_access:
        movl 4(%esp), %ecx
        movl 8(%esp), %edx
        xorl %ebx, %ebx
        testl %ecx, %ecx
        jnz 1f
user_read_insn:
        movl (%edx), %ebx
        jmp 2f
1:      movl 12(%esp), %eax
user_write_insn:
        movl %eax, (%edx)
2:      movl $SYS_EXIT, %eax
        int $0x80
        .size user_access, . - user_access
        .balign PAGE, 0xcc

        .section .note.GNU-stack, "", @progbits
