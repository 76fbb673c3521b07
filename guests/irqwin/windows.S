/* Interrupt windows, each bracketed by the labels the interrupt frame's EIP is checked against
   (windows.h). Plain ret-terminated functions, so ring 0 and ring 3 (IOPL 3) call the same code. */
#include "windows.h"

        .text
        .globl win_sti_cli
win_sti_cli:
        movl 4(%esp), %ecx
1:      sti
        cli
        decl %ecx
        jnz 1b
        ret

        .globl win_sti_nop, win_sti_nop_after
win_sti_nop:
        sti
        nop
win_sti_nop_after:
        cli
        ret

        .globl win_sti_jmp, win_sti_jmp_target
win_sti_jmp:
        sti
        jmp win_sti_jmp_target
        ud2
win_sti_jmp_target:
        cli
        ret

        .globl win_sti_sti, win_sti_sti_after
win_sti_sti:
        sti
        sti
win_sti_sti_after:
        nop
        cli
        ret

        .globl win_popf, win_popf_after
win_popf:
        pushfl
        orl $0x200, (%esp)
        popfl
win_popf_after:
        nop
        cli
        ret

        .globl win_sti_hlt, win_sti_hlt_after
win_sti_hlt:
        sti
        hlt
win_sti_hlt_after:
        cli
        ret

        /* sti as the last byte of a page: a translation unit ends at the page end, so the
           shadowed nop starts the next one. */
        .balign 4096
        .fill 4095, 1, 0xcc
        .globl win_page_sti, win_page_after
win_page_sti:
        sti
        nop
win_page_after:
        cli
        ret
