/* Code that the smc guest runs, rewrites and runs again, and position-independent snippets it
   copies over code or into fresh pages (kept in .rodata: they never run where they are). */
        .text

/* uint32_t smc_imm(void): returns the immediate at smc_imm_value, which the kernel rewrites. */
        .globl smc_imm, smc_imm_value
        .type smc_imm, @function
smc_imm:
        .byte 0xb8              /* mov $imm32, %eax */
smc_imm_value:
        .long 0x11111111
        ret
        .size smc_imm, . - smc_imm

/* uint32_t smc_next(uint32_t v): stores v into the immediate of the very next instruction and
   returns what that instruction loads. A P6 notices a store into instructions it has already
   fetched: v comes back, with no jump in between. */
        .globl smc_next
        .type smc_next, @function
smc_next:
        movl 4(%esp), %ecx
        movl %ecx, smc_next_value
        .byte 0xb8              /* mov $imm32, %eax */
smc_next_value:
        .long 0
        ret
        .size smc_next, . - smc_next

/* uint32_t smc_loop(uint32_t n): iteration i writes i into the immediate of the add that it
   runs next, a few bytes on in the same page; returns the sum 0 + 1 + ... + (n - 1). Code
   that missed the stores would add the stale immediate instead. */
        .globl smc_loop, smc_loop_value
        .type smc_loop, @function
smc_loop:
        movl 4(%esp), %ecx
        xorl %eax, %eax
        xorl %edx, %edx
        testl %ecx, %ecx
        jz 2f
1:      movl %edx, smc_loop_value
        .byte 0x05              /* add $imm32, %eax */
smc_loop_value:
        .long 0x7fffffff
        incl %edx
        cmpl %ecx, %edx
        jb 1b
2:      ret
        .size smc_loop, . - smc_loop

/* uint32_t smc_slot(uint32_t a, uint32_t b): starts as snip_add; snippets are copied over it. */
        .globl smc_slot, smc_slot_end
        .type smc_slot, @function
        .p2align 4
smc_slot:
        movl 4(%esp), %eax
        addl 8(%esp), %eax
        ret
        .fill 64 - (. - smc_slot), 1, 0xcc
smc_slot_end:
        .size smc_slot, . - smc_slot

        .section .rodata
/* Each is uint32_t f(uint32_t a, uint32_t b), between snip_<name> and snip_<name>_end. */
.macro snippet name
        .p2align 2
        .globl snip_\name, snip_\name\()_end
snip_\name:
.endm
.macro snippet_end name
snip_\name\()_end:
.endm

        snippet add
        movl 4(%esp), %eax
        addl 8(%esp), %eax
        ret
        snippet_end add

        snippet mul
        movl 4(%esp), %eax
        imull 8(%esp), %eax
        ret
        snippet_end mul

        snippet sub
        movl 4(%esp), %eax
        subl 8(%esp), %eax
        ret
        snippet_end sub

        /* (1 + 2 + ... + a) ^ b: a backward branch, to run from wherever it is copied. */
        snippet tri
        movl 4(%esp), %ecx
        xorl %eax, %eax
        testl %ecx, %ecx
        jz 2f
1:      addl %ecx, %eax
        decl %ecx
        jnz 1b
2:      xorl 8(%esp), %eax
        ret
        snippet_end tri

        .section .note.GNU-stack, "", @progbits
