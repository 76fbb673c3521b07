/* String instructions (rep movs/stos/cmps/scas/lods, both directions, across a page), the
   address-size prefix (16-bit addressing), segment overrides, xlat, enter/leave, then exit. */
        mov $0x380000, %esp
        mov $0x200ff0, %esi
        mov $0x210ff8, %edi
        mov $0x40, %ecx
        cld
        rep movsb
        mov $0x1234, %eax
        mov $0x10, %ecx
        rep stosl
        std
        mov $0x20103f, %esi
        mov $0x21103f, %edi
        mov $0x20, %ecx
        repe cmpsb
        cld
        mov $0x200000, %edi
        mov $0x100, %ecx
        mov $0x55, %al
        repne scasb
        mov $0x200000, %esi
        lodsl
        mov $0x200000, %ebx
        xlat
        /* 16-bit addressing: [bx+si], [bp+di+disp] (the low 64 KiB) */
        mov $0x1000, %ebx
        mov $0x20, %esi
        addr16 mov (%bx,%si), %eax
        mov $0x2000, %ebp
        mov $0x10, %edi
        addr16 mov %eax, 0x40(%bp,%di)
        addr16 lea 0x7fff(%bx,%si), %edx
        mov %fs:0x200000, %eax          /* the multiboot caches: no GDT to reload from */
        mov %cs:0x100000, %edx
        mov %eax, %es:0x200100
        enter $0x20, $2
        leave
        pushf
        popf
        pusha
        popa
        mov $0x41, %al
        out %al, $0xf4
