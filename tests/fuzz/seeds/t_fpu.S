/* x87 and SSE: FXSR and SSE enabled in CR4, CR0.NE set, a few operations, an exception
   masked and one unmasked, fxsave/fxrstor, then an exit. */
        mov %cr0, %eax
        and $~0x4, %eax                 /* EM off */
        or $0x22, %eax                  /* MP, NE */
        mov %eax, %cr0
        mov %cr4, %eax
        or $0x600, %eax                 /* OSFXSR, OSXMMEXCPT */
        mov %eax, %cr4
        fninit
        fld1
        fldpi
        fdivrp
        fsqrt
        fistpl 0x300000
        fldz
        fld1
        fdivp                           /* masked divide by zero: inf */
        fstpl 0x300008
        movl $0x40490fdb, 0x300010
        movss 0x300010, %xmm0
        sqrtss %xmm0, %xmm1
        cvtsi2ss %eax, %xmm2
        addps %xmm1, %xmm2
        fxsave 0x300200
        fxrstor 0x300200
        stmxcsr 0x300020
        mov $0x31, %al
        out %al, $0xf4
