/* Executes an x87 instruction, which the translator does not support yet: bt86 must stop with
   a report naming it. */
#include <stdint.h>

#include "kprintf.h"
#include "serial.h"

int kmain(uint32_t magic, const void* mbi) {
  (void)magic;
  (void)mbi;
  serial_init();
  kprintf("about to run fninit\n");
  __asm__ volatile("fninit");
  return 1;
}
