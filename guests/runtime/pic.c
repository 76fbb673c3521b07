#include "pic.h"

#include "portio.h"

enum {
  MASTER_CMD = 0x20,
  MASTER_DATA = 0x21,
  SLAVE_CMD = 0xa0,
  SLAVE_DATA = 0xa1,
  ICW1_INIT_ICW4 = 0x11, /* edge triggered, cascade, ICW4 follows */
  ICW3_MASTER_SLAVE_ON_IRQ2 = 0x04,
  ICW3_SLAVE_ID = 0x02,
  ICW4_8086 = 0x01,
  OCW2_EOI = 0x20,
  OCW3_READ_IRR = 0x0a,
  OCW3_READ_ISR = 0x0b,
  CASCADE_IRQ = 2,
};

void pic_init(void) {
  outb(MASTER_CMD, ICW1_INIT_ICW4);
  outb(SLAVE_CMD, ICW1_INIT_ICW4);
  outb(MASTER_DATA, PIC_MASTER_VECTOR);
  outb(SLAVE_DATA, PIC_SLAVE_VECTOR);
  outb(MASTER_DATA, ICW3_MASTER_SLAVE_ON_IRQ2);
  outb(SLAVE_DATA, ICW3_SLAVE_ID);
  outb(MASTER_DATA, ICW4_8086);
  outb(SLAVE_DATA, ICW4_8086);
  /* ICW1 clears the masks: mask everything until a guest asks for an IRQ. */
  outb(MASTER_DATA, 0xff);
  outb(SLAVE_DATA, 0xff);
}

void pic_unmask(int irq) {
  if (irq >= 8) {
    outb(SLAVE_DATA, inb(SLAVE_DATA) & ~(1u << (irq - 8)));
    irq = CASCADE_IRQ;
  }
  outb(MASTER_DATA, inb(MASTER_DATA) & ~(1u << irq));
}

void pic_mask(int irq) {
  if (irq >= 8)
    outb(SLAVE_DATA, inb(SLAVE_DATA) | 1u << (irq - 8));
  else
    outb(MASTER_DATA, inb(MASTER_DATA) | 1u << irq);
}

void pic_eoi(int irq) {
  if (irq >= 8) outb(SLAVE_CMD, OCW2_EOI);
  outb(MASTER_CMD, OCW2_EOI);
}

static uint16_t read_pair(uint8_t ocw3) {
  outb(MASTER_CMD, ocw3);
  outb(SLAVE_CMD, ocw3);
  return (uint16_t)(inb(MASTER_CMD) | inb(SLAVE_CMD) << 8);
}

uint16_t pic_irr(void) {
  return read_pair(OCW3_READ_IRR);
}

uint16_t pic_isr(void) {
  return read_pair(OCW3_READ_ISR);
}
