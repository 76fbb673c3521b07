/* The guest side of the alu shim: output on the serial port, result through guest_exit. */
#include <stdint.h>

#include "alu.h"
#include "kprintf.h"
#include "multiboot.h"
#include "serial.h"

void alu_report(const char* name, uint32_t checksum) {
  kprintf("alu.%s: 0x%08x\n", name, checksum);
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  (void)mbi;
  serial_init();
  alu_main();
  return 0;
}
