#include "pit.h"

#include "portio.h"

enum {
  CHANNEL0 = 0x40,
  COMMAND = 0x43,
  SELECT_CHANNEL0 = 0x00,
  ACCESS_LATCH = 0x00,
  ACCESS_LOHI = 0x30,
};

uint16_t pit_start(uint32_t hz, enum pit_mode mode) {
  uint32_t reload = (PIT_INPUT_HZ + hz / 2) / hz;
  if (reload < 2) reload = 2;
  if (reload > 0xffff) reload = 0xffff;
  outb(COMMAND, SELECT_CHANNEL0 | ACCESS_LOHI | (uint8_t)(mode << 1));
  outb(CHANNEL0, reload & 0xff);
  outb(CHANNEL0, reload >> 8);
  return (uint16_t)reload;
}

uint16_t pit_read_count(void) {
  outb(COMMAND, SELECT_CHANNEL0 | ACCESS_LATCH);
  uint8_t lo = inb(CHANNEL0);
  uint8_t hi = inb(CHANNEL0);
  return (uint16_t)(lo | hi << 8);
}
