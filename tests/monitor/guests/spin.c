/* Spins forever with interrupts off: only Ctrl-C (SIGINT) can end it. */
#include <stdint.h>

#include "kprintf.h"
#include "serial.h"

int kmain(uint32_t magic, const void* mbi) {
  (void)magic;
  (void)mbi;
  serial_init();
  kprintf("spinning\n");
  for (volatile uint32_t i = 0;; ++i) {
  }
  return 1;
}
