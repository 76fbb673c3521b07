/* The smallest multiboot kernel: the header (no flags) and an exit. */
        .long 0x1BADB002, 0, -0x1BADB002
        mov $0x21, %al
        out %al, $0xf4
