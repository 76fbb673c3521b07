/* Ring 3: an x87 error with CR0.NE = 0 and the waiting instruction after it, then SYS_EXIT 0.
   A page of its own, so that bt86 runs it directly on the host where it can. */
        .data
user_cw:
        .word 0x037b /* zero-divide unmasked */

        .text
        .globl user_ferr, user_fwait
        .type user_ferr, @function
        .p2align 12
user_ferr:
        fninit
        fldcw user_cw
        fld1
        fldz
        fdivrp
        nop
user_fwait:
        fwait
        nop
        movl $0, %eax /* SYS_EXIT */
        movl $0, %ebx
        int $0x80
        ud2
        .size user_ferr, . - user_ferr
        .p2align 12
