/* Memory with neither RAM nor a device (0x2000000, above the 16 MiB of RAM) in the forms the
   MMIO redirection does not take: push/pop of it and with the stack there, x87 loads and
   stores, fnsave, string instructions across its pages, xlat; then a page table there (all-ones
   entries) and code fetched from it (ff ff: #UD, with no IDT a triple fault). */
        mov $0x380000, %esp
        pushl 0x2000000
        popl 0x2000004
        mov %esp, %ebp
        mov $0x2000100, %esp
        push $0x1234
        pop %eax
        mov %ebp, %esp
        fninit
        flds 0x2000010
        fstpl 0x2000020
        fildl 0x2000030
        fistpl 0x2000040
        fnsave 0x2000fd0
        mov $0x2000ff0, %edi
        mov $0x408, %ecx
        cld
        rep stosl
        mov $0x2000000, %esi
        mov $0x200000, %edi
        mov $0x10, %ecx
        rep movsl
        mov $0x2000000, %ebx
        xlat
        mov $0x2003000, %eax
        mov %eax, %cr3
        mov %cr0, %eax
        or $0x80000000, %eax
        mov %eax, %cr0
        nop
        jmp 0x2004000
