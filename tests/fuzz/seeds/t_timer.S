/* The PIC remapped to 0x20, the PIT at about 1 kHz, an IDT gate for IRQ 0 that counts ticks;
   sti and hlt until five ticks came, then an exit with the count. */
        .set TICKS, 0x300000
        .set IDT, 0x301000
        lgdt gdtr
        ljmp $0x08, $1f
1:      mov $0x10, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov $0x380000, %esp
        mov $tick, %eax
        mov %ax, IDT + 0x20 * 8
        movw $0x08, IDT + 0x20 * 8 + 2
        movw $0x8e00, IDT + 0x20 * 8 + 4
        shr $16, %eax
        mov %ax, IDT + 0x20 * 8 + 6
        lidt idtr
        /* ICW1-4 for both PICs: vectors 0x20 and 0x28, cascade on IRQ 2, 8086 mode */
        mov $0x11, %al
        out %al, $0x20
        out %al, $0xa0
        mov $0x20, %al
        out %al, $0x21
        mov $0x28, %al
        out %al, $0xa1
        mov $4, %al
        out %al, $0x21
        mov $2, %al
        out %al, $0xa1
        mov $1, %al
        out %al, $0x21
        out %al, $0xa1
        mov $0xfe, %al                  /* only IRQ 0 */
        out %al, $0x21
        mov $0xff, %al
        out %al, $0xa1
        /* PIT channel 0, mode 2, divisor 1193 */
        mov $0x34, %al
        out %al, $0x43
        mov $0xa9, %al
        out %al, $0x40
        mov $0x04, %al
        out %al, $0x40
        sti
2:      hlt
        cmpl $5, TICKS
        jb 2b
        cli
        mov TICKS, %eax
        out %al, $0xf4
tick:   incl %ss:TICKS
        push %eax
        mov $0x20, %al                  /* EOI */
        out %al, $0x20
        pop %eax
        iret
        .balign 8
gdt:    .quad 0
        .quad 0x00cf9a000000ffff
        .quad 0x00cf92000000ffff
gdt_end:
gdtr:   .word gdt_end - gdt - 1
        .long gdt
idtr:   .word 0x21 * 8 - 1
        .long IDT
