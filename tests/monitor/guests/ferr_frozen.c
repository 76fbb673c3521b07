/* Raises an x87 floating-point error with CR0.NE = 0 and interrupts disabled (the multiboot
   state): the CPU asserts FERR# and waits at the fwait for an interrupt that cannot come, so
   bt86 must stop with a report naming it. */
#include <stdint.h>

#include "kprintf.h"
#include "serial.h"

int kmain(uint32_t magic, const void* mbi) {
  (void)magic;
  (void)mbi;
  serial_init();
  kprintf("about to divide by zero with ZE unmasked\n");
  static const uint16_t cw = 0x037b; /* zero-divide exceptions unmasked */
  __asm__ volatile("fninit; fldcw %0; fld1; fldz; fdivrp; fwait" ::"m"(cw));
  return 1;
}
