/* The common start of the protection guests: COM1, the GDT with user segments and the TSS, the
   IDT with the exception stubs, the PIC remapped and masked. */
#ifndef BT86_GUEST_PROTECTED_INIT_H
#define BT86_GUEST_PROTECTED_INIT_H

void protected_init(void);

#endif
