/* Protected-mode entry of the test bzImage: records the state the loader left (segment
   selectors, the registers the protocol fixes, EFLAGS, CR0) before anything changes it, then
   clears .bss and calls linuxboot_main(zero page, state). */
        .section .text.entry, "ax"
        .globl _start
_start:
        movl %esi, entry_state + 0
        movl %ebx, entry_state + 4
        movl %ebp, entry_state + 8
        movl %edi, entry_state + 12
        movw %cs, entry_state + 16
        movw %ds, entry_state + 18
        movw %es, entry_state + 20
        movw %ss, entry_state + 22
        movl $stack_top, %esp           /* the protocol gives no stack */
        pushfl
        popl entry_state + 24
        movl %cr0, %eax
        movl %eax, entry_state + 28
        cld
        movl $__bss_start, %edi
        movl $__bss_end, %ecx
        subl %edi, %ecx
        xorl %eax, %eax
        rep stosb
        movl $stack_top, %esp
        pushl $entry_state
        pushl entry_state + 0
        call linuxboot_main
1:      cli
        hlt
        jmp 1b

        .data
        .globl entry_state
entry_state:
        .skip 32

        .bss
        .p2align 4
        .skip 0x4000
stack_top:
