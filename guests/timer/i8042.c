#include <stdint.h>

#include "cmos.h"
#include "kprintf.h"
#include "portio.h"
#include "tap.h"

enum {
  KBC_DATA = 0x60,
  KBC_STATUS = 0x64, /* reads: status; writes: command */
  STATUS_OBF = 0x01,
  STATUS_IBF = 0x02,
  CMD_SELF_TEST = 0xaa,
  SELF_TEST_PASSED = 0x55,
  SPIN_CAP = 100000,
  MAX_STALE_BYTES = 16,
};

void i8042_checks(void) {
  uint8_t status = inb(KBC_STATUS);
  kprintf("# i8042 status 0x%02x\n", status);
  tap_ok(status != 0xff, "i8042 status port answers (0x%02x, not the open-bus 0xff)", status);

  /* Whatever the firmware left in the output buffer would be taken for the reply. */
  for (int i = 0; i < MAX_STALE_BYTES && (inb(KBC_STATUS) & STATUS_OBF); i++) inb(KBC_DATA);
  for (int i = 0; i < SPIN_CAP && (inb(KBC_STATUS) & STATUS_IBF); i++) {
  }
  outb(KBC_STATUS, CMD_SELF_TEST);
  int i = 0;
  while (i < SPIN_CAP && !(inb(KBC_STATUS) & STATUS_OBF)) i++;
  int got = i < SPIN_CAP ? inb(KBC_DATA) : -1;
  tap_ok(got == SELF_TEST_PASSED, "i8042 self-test (0xaa) answers 0x55 (got %d)", got);
}
