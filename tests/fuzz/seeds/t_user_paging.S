/* Paging with user and supervisor pages, a TSS, ring-3 code that writes a user page, then a
   supervisor page (#PF, error code 7), handled by a gate that exits with CR2's page number. */
        .set PD, 0x200000
        .set PT, 0x201000
        .set IDT, 0x202000
        .set TSS, 0x203000
        lgdt gdtr
        ljmp $0x08, $1f
1:      mov $0x10, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov $0x380000, %esp
        movl $0x380000, TSS + 4
        movl $0x10, TSS + 8
        mov $0x28, %ax
        ltr %ax
        /* 4 MiB identity: user pages, except page 0x300 (supervisor) */
        mov $PT, %edi
        mov $0x7, %eax
        mov $1024, %ecx
2:      mov %eax, (%edi)
        add $0x1000, %eax
        add $4, %edi
        loop 2b
        andl $~4, PT + 0x300 * 4
        movl $(PT + 7), PD
        mov $pf, %eax
        mov %ax, IDT + 14 * 8
        movw $0x08, IDT + 14 * 8 + 2
        movw $0x8e00, IDT + 14 * 8 + 4
        shr $16, %eax
        mov %ax, IDT + 14 * 8 + 6
        lidt idtr
        mov $PD, %eax
        mov %eax, %cr3
        mov %cr0, %eax
        or $0x80010000, %eax
        mov %eax, %cr0
        pushl $0x23
        pushl $0x370000
        pushl $0x202
        pushl $0x1b
        pushl $user
        iret
user:   movl $1, 0x310000
        movl $2, 0x300000               /* supervisor page: #PF */
        jmp user
pf:     mov %cr2, %eax
        shr $12, %eax
        out %al, $0xf4                  /* 0x300 -> 0x00: status 1 */
        .balign 8
gdt:    .quad 0
        .quad 0x00cf9a000000ffff
        .quad 0x00cf92000000ffff
        .quad 0x00cffa000000ffff
        .quad 0x00cff2000000ffff
        .word 0x67, TSS & 0xffff
        .byte (TSS >> 16) & 0xff, 0x89, 0, TSS >> 24
gdt_end:
gdtr:   .word gdt_end - gdt - 1
        .long gdt
idtr:   .word 15 * 8 - 1
        .long IDT
