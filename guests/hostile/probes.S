/* Ring-3 instructions a hostile program may use to stop a VMM that runs user code directly on
   the host: each must give the guest what a Pentium III gives. Each probe is followed by a
   resume label the handler jumps to (a VMM running code directly may report a fault from a
   silently accepted selector a few instructions late). */
#include "probes.h"

        .text
        .globl ring3_probes, probe_bound, resume_bound, probe_far23, resume_far23
        .globl probe_ss2b, resume_ss2b, unaligned_word, ac_loaded
        .type ring3_probes, @function
        /* A page of its own: no byte pattern elsewhere sends it to bt86's translator. */
        .p2align 12
ring3_probes:
        /* bound with an index above its upper bound: #BR at the instruction. */
        movl $100, %eax
probe_bound:
        boundl %eax, bounds
resume_bound:
        /* A far jump to 0x23 (the guest's user data; on x86-64 Linux the host's 32-bit user
           code): #GP(0x20). */
probe_far23:
        ljmp $0x23, $after_far23
after_far23:
        ud2
resume_far23:
        /* mov ss with 0x2b (the guest's TSS; the host's flat user data): #GP(0x28). */
        movl $0x2b, %eax
probe_ss2b:
        movl %eax, %ss
        ud2
resume_ss2b:
        /* EFLAGS.AC with the guest's CR0.AM clear: an unaligned load is no fault. */
        pushfl
        orl $0x40000, (%esp)
        popfl
        movl unaligned_word + 1, %eax
        pushfl
        andl $~0x40000, (%esp)
        popfl
        movl %eax, ac_loaded
        movl $PROBE_SYS_EXIT, %eax
        xorl %ebx, %ebx
        int $0x80
        ud2
        .p2align 12

        .data
        .p2align 3
bounds: .long 0, 10
        .p2align 2
unaligned_word: .byte 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88
ac_loaded: .long 0

        .section .note.GNU-stack, "", @progbits
