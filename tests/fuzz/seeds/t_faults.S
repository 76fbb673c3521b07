/* A GDT with ring-0 and ring-3 segments and a TSS, an IDT whose handlers resume at an address
   the code sets before each fault; then faults (#DE, #UD, #BP, #GP, #NP), a trip to ring 3 and
   back through int 0x80, and an exit. */
        .set RECOVER, 0x300000          /* where a handler resumes */
        .set COUNT, 0x300004            /* faults taken */
        .set IDT, 0x301000
        .set TSS, 0x302000
        lgdt gdtr
        ljmp $0x08, $1f
1:      mov $0x10, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov $0x380000, %esp
        /* TSS: ss0:esp0 for the way back from ring 3 */
        movl $0x380000, TSS + 4
        movl $0x10, TSS + 8
        mov $0x28, %ax
        ltr %ax
        /* IDT: 32 exception gates (error code or not) and int 0x80 (DPL 3) */
        mov $IDT, %edi
        xor %ecx, %ecx
2:      mov $noerr, %eax
        cmp $8, %ecx
        je 3f
        cmp $10, %ecx
        jb 4f
        cmp $14, %ecx
        ja 4f
3:      mov $witherr, %eax
4:      mov %ax, (%edi)
        movw $0x08, 2(%edi)
        movw $0x8e00, 4(%edi)
        shr $16, %eax
        mov %ax, 6(%edi)
        add $8, %edi
        inc %ecx
        cmp $32, %ecx
        jb 2b
        mov $back, %eax
        mov %ax, IDT + 0x80 * 8
        movw $0x08, IDT + 0x80 * 8 + 2
        movw $0xee00, IDT + 0x80 * 8 + 4
        shr $16, %eax
        mov %ax, IDT + 0x80 * 8 + 6
        lidt idtr

        movl $1f, RECOVER
        xor %ecx, %ecx
        div %ecx                        /* #DE */
1:      movl $1f, RECOVER
        ud2                             /* #UD */
1:      movl $1f, RECOVER
        int3                            /* #BP (a trap: resumes after it anyway) */
1:      movl $1f, RECOVER
        mov $0x48, %ax                  /* past the GDT limit: #GP */
        mov %ax, %fs
1:      movl $1f, RECOVER
        mov $0x30, %ax                  /* not present: #NP */
        mov %ax, %gs
1:      movl $1f, RECOVER
        lcall $0x40, $0                 /* past the limit: #GP */
1:      /* ring 3 and back */
        pushl $0x23
        pushl $0x370000
        pushl $0x202
        pushl $0x1b
        pushl $user
        iret
user:   mov $0x23, %ax
        mov %ax, %ds
        add $1, %eax
        int $0x80
back:   mov $0x10, %ax
        mov %ax, %ds
        mov %ax, %es
        mov $0x380000, %esp
        mov COUNT, %eax
        add $0x40, %al
        out %al, $0xf4

noerr:  incl %ss:COUNT
        push %eax
        mov %ss:RECOVER, %eax
        mov %eax, 4(%esp)
        pop %eax
        iret
witherr:
        add $4, %esp
        jmp noerr

        .balign 8
gdt:    .quad 0
        .quad 0x00cf9a000000ffff        /* 0x08 ring-0 code */
        .quad 0x00cf92000000ffff        /* 0x10 ring-0 data */
        .quad 0x00cffa000000ffff        /* 0x18 ring-3 code */
        .quad 0x00cff2000000ffff        /* 0x20 ring-3 data */
        .word 0x67, TSS & 0xffff        /* 0x28 TSS (32-bit, available) */
        .byte (TSS >> 16) & 0xff, 0x89, 0, TSS >> 24
        .quad 0x00cf12000000ffff        /* 0x30 data, not present */
        .quad 0x008f9a000000ffff        /* 0x38 16-bit code */
gdt_end:
gdtr:   .word gdt_end - gdt - 1
        .long gdt
idtr:   .word 0x81 * 8 - 1
        .long IDT
