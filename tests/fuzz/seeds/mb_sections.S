/* A multiboot kernel asking for page-aligned modules and memory information, with data and
   bss segments apart from its code. */
        .long 0x1BADB002, 3, -(0x1BADB002 + 3)
        mov data, %eax
        mov %eax, bss
        out %al, $0xf4
        .data
        .balign 4096
data:   .long 0x21
        .bss
        .balign 4096
bss:    .skip 8192
