/* Self-modifying code: an immediate rewritten before each run of a loop, a store into the
   instruction right after it, then an exit. */
        mov $0x380000, %esp
        mov $8, %ecx
1:      mov %ecx, imm + 1
        jmp imm
imm:    mov $0, %eax
        add %eax, %edx
        loop 1b
        movb $0x90, next                /* the next instruction, already fetched */
next:   int3
        movl $0x9090f4e6, here          /* out %al, $0xf4; nop; nop */
        mov $0x51, %al
here:   nop
        nop
        nop
        nop
