/* Resets the machine the ways a PC kernel does, chosen by the command line: "i8042"
   (command 0xfe to port 0x64, pulsing the reset line), "port92" (bit 0 of port 0x92) or "cf9"
   (the PIIX reset control register, as Linux's reboot=pci and bt86's ACPI reset register).
   bt86 must end the run with status 0, as QEMU does with -no-reboot. */
#include <stdint.h>

#include "kprintf.h"
#include "mt_pc.h"
#include "portio.h"
#include "serial.h"

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  serial_init();
  const char* how = mt_cmdline(mbi);
  kprintf("resetting through %s\n", how);
  if (mt_streq(how, "i8042")) {
    outb(0x64, 0xfe);
  } else if (mt_streq(how, "port92")) {
    outb(0x92, inb(0x92) | 0x01);
  } else if (mt_streq(how, "cf9")) {
    outb(0xcf9, 0x02); /* Linux's reboot=pci: SRST alone does nothing, */
    if (inb(0xcf9) != 0x02) {
      kprintf("0xcf9 reads 0x%x after 0x02\n", inb(0xcf9));
      return 3;
    }
    outb(0xcf9, 0x06); /* then RCPU resets */
  } else {
    kprintf("unknown method '%s'\n", how);
    return 1;
  }
  kprintf("still running after the reset request\n");
  return 2;
}
