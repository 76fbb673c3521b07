/* Identity paging for the first 8 MiB through 4 KiB tables, then page-table writes in many
   instruction forms (the write-watch re-encoding), invlpg, CR3 reload, WP, PSE, and an exit. */
        .set PD, 0x200000
        .set PT, 0x201000
        mov $PT, %edi
        mov $0x3, %eax
        mov $2048, %ecx
1:      mov %eax, (%edi)
        add $0x1000, %eax
        add $4, %edi
        loop 1b
        movl $(PT + 3), PD
        movl $(PT + 0x1000 + 3), PD + 4
        mov $PD, %eax
        mov %eax, %cr3
        mov %cr0, %eax
        or $0x80010000, %eax            /* PG, WP */
        mov %eax, %cr0
        /* page-table writers: each runs several times, so it is watched on later runs */
        mov $8, %esi
2:      mov $PT, %ebx
        movl $0x300003, 0x300(%ebx)
        orl $0x20, 0x300(%ebx)
        mov $5, %edx
        bts %edx, 0x300(%ebx)
        mov $-0x100000, %edx
        btr %edx, 0x300(%ebx)
        lea 0x300(%ebx), %eax
        xchg %ecx, 0x304(%ebx)
        mov 0x300(%ebx), %eax
        mov $0x301003, %ecx
        cmpxchg %ecx, 0x300(%ebx)
        lea 0x308(%ebx), %edi
        mov $0x302003, %eax
        cld
        stosl
        movw $0x3003, 0x30c(%ebx)
        invlpg 0x300000
        movl $0x1234, 0x300000
        dec %esi
        jnz 2b
        mov %cr3, %eax
        mov %eax, %cr3
        mov %cr4, %eax
        or $0x10, %eax                  /* PSE */
        mov %eax, %cr4
        movl $0x400083, PD + 4          /* a 4 MiB page at 4 MiB */
        movl $0x55, 0x400010
        mov %cr0, %eax
        and $0x7fffffff, %eax           /* paging off again */
        mov %eax, %cr0
        mov $0x21, %al
        out %al, $0xf4
