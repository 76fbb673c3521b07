/* The 8259A pair: IRQs 0-7 on the master, 8-15 on the slave (cascaded on IRQ 2). */
#ifndef BT86_GUEST_PIC_H
#define BT86_GUEST_PIC_H

#include <stdint.h>

#define PIC_MASTER_VECTOR 0x20
#define PIC_SLAVE_VECTOR 0x28

/* Reinitialises both PICs so IRQ n arrives on vector PIC_MASTER_VECTOR + n (n < 8) or
   PIC_SLAVE_VECTOR + n - 8, and masks every IRQ. The BIOS's vectors 0x08-0x0f would collide
   with the CPU exceptions. Call with interrupts off. */
void pic_init(void);

void pic_unmask(int irq); /* unmasking a slave IRQ also unmasks the cascade */
void pic_mask(int irq);
void pic_eoi(int irq);  /* non-specific EOI, to the slave as well for IRQs 8-15 */
uint16_t pic_irr(void); /* requested: bit n = IRQ n */
uint16_t pic_isr(void); /* in service (acknowledged, no EOI yet) */

#endif
