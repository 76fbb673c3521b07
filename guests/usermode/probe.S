/* A ring-3 system call with every register holding a known value, CF and DF set, and the
   stack pointer recorded, so the kernel can check what reached the trap frame and the user
   can check what came back. */
#include "usermode.h"

        .data
        .globl probe_user_esp, probe_result
probe_user_esp: .long 0   /* ESP at the int instruction */
probe_result:   .long 0   /* EAX after it */

        .text
        .globl user_probe
        .type user_probe, @function
/* uint32_t user_probe(void): returns a PROBE_BAD_* mask of what was not preserved. */
user_probe:
        pushl %ebp
        pushl %ebx
        pushl %esi
        pushl %edi
        movl $PROBE_EBX, %ebx
        movl $PROBE_ECX, %ecx
        movl $PROBE_EDX, %edx
        movl $PROBE_ESI, %esi
        movl $PROBE_EDI, %edi
        movl $PROBE_EBP, %ebp
        movl $SYS_PROBE, %eax
        movl %esp, probe_user_esp
        stc
        std
        int $0x80
        pushfl
        cld
        movl %eax, probe_result
        popl %eax
        andl $(EFLAGS_CF_BIT | EFLAGS_DF_BIT), %eax
        xorl $(EFLAGS_CF_BIT | EFLAGS_DF_BIT), %eax
        jz 1f
        movl $PROBE_BAD_FLAGS, %eax
1:
        cmpl $PROBE_EBX, %ebx
        je 1f
        orl $PROBE_BAD_EBX, %eax
1:
        cmpl $PROBE_ECX, %ecx
        je 1f
        orl $PROBE_BAD_ECX, %eax
1:
        cmpl $PROBE_EDX, %edx
        je 1f
        orl $PROBE_BAD_EDX, %eax
1:
        cmpl $PROBE_ESI, %esi
        je 1f
        orl $PROBE_BAD_ESI, %eax
1:
        cmpl $PROBE_EDI, %edi
        je 1f
        orl $PROBE_BAD_EDI, %eax
1:
        cmpl $PROBE_EBP, %ebp
        je 1f
        orl $PROBE_BAD_EBP, %eax
1:
        cmpl probe_user_esp, %esp
        je 1f
        orl $PROBE_BAD_ESP, %eax
1:
        popl %edi
        popl %esi
        popl %ebx
        popl %ebp
        ret
        .size user_probe, . - user_probe

        .section .note.GNU-stack, "", @progbits
