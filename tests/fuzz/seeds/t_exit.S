/* Some arithmetic, then the guest's own exit through isa-debug-exit (port 0xf4). */
        mov $0x12345678, %eax
        mov $7, %ecx
        xor %edx, %edx
        div %ecx
        imul $3, %eax, %ebx
        bswap %ebx
        mov %ebx, 0x200000
        add 0x200000, %eax
        out %al, $0xf4
