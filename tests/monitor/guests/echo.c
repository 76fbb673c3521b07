/* Serial input through the UART's receive interrupt: COM1 with its FIFO and IER.RDI, IRQ 4
   unmasked; each line received is printed back as "echo: <line>" and "quit" ends the run
   (status 1). Checks what the interrupt handler sees: IIR says received data (or the FIFO's
   character timeout) and LSR.DR is set until the FIFO is drained. */
#include <stdint.h>

#include "exit.h"
#include "kprintf.h"
#include "mt_pc.h"
#include "portio.h"
#include "serial.h"

enum { COM1 = 0x3f8, IRQ4_VECTOR = 0x24 };

static volatile char ring[256]; /* filled by the interrupt handler */
static volatile uint32_t head, bad_iir, interrupts;

__asm__(
    "  .text\n"
    "  .globl echo_irq4_entry\n"
    "echo_irq4_entry:\n"
    "  pushal\n"
    "  cld\n"
    "  call echo_irq4\n"
    "  popal\n"
    "  iret\n");
extern const char echo_irq4_entry[];

__attribute__((used)) void echo_irq4(void) {
  const uint8_t iir = inb(COM1 + 2) & 0x0f;
  interrupts++;
  if (iir != 0x04 && iir != 0x0c) bad_iir = 0x100 | iir;
  while (inb(COM1 + 5) & 0x01) ring[head++ % sizeof ring] = (char)inb(COM1);
  outb(0x20, 0x20);
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  (void)mbi;
  serial_init();
  mt_cpu_init();
  mt_set_gate(IRQ4_VECTOR, echo_irq4_entry);
  mt_pic_init();
  mt_pit_start(11932); /* 100 Hz: hlt has a timer to sleep on */
  outb(0x21, inb(0x21) & ~0x10);
  outb(COM1 + 2, 0x07); /* FIFO on, both cleared, trigger level 1 */
  outb(COM1 + 1, 0x01); /* received-data interrupt */
  kputs("# waiting for input\n");
  char line[128];
  uint32_t length = 0, tail = 0;
  for (;;) {
    __asm__ volatile("sti; hlt; cli");
    if (bad_iir) {
      kprintf("not ok - IIR %x in the receive interrupt\n", bad_iir & 0xff);
      return 2;
    }
    while (tail != head) {
      const char c = ring[tail++ % sizeof ring];
      if (c != '\n') {
        if (length + 1 < sizeof line) line[length++] = c;
        continue;
      }
      line[length] = 0;
      length = 0;
      kprintf("echo: %s\n", line);
      if (mt_streq(line, "quit")) {
        kprintf("# %u receive interrupts\n", interrupts);
        return 0;
      }
    }
  }
}
