/* Runs an instruction the part has and bt86 does not implement (maskmovq with 16-bit
   addressing, docs/ARCHITECTURE.md "Not yet"): bt86 must stop with a report naming it. */
#include <stdint.h>

#include "kprintf.h"
#include "serial.h"

int kmain(uint32_t magic, const void* mbi) {
  (void)magic;
  (void)mbi;
  serial_init();
  kprintf("about to run maskmovq with a 0x67 prefix\n");
  __asm__ volatile(".byte 0x67; maskmovq %%mm1, %%mm0" ::: "memory");
  return 1;
}
