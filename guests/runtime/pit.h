/* The 8254 PIT, channel 0 (IRQ 0), counting at 1.193182 MHz. */
#ifndef BT86_GUEST_PIT_H
#define BT86_GUEST_PIT_H

#include <stdint.h>

#define PIT_INPUT_HZ 1193182u

enum pit_mode {
  PIT_MODE_RATE = 2,   /* one IRQ 0 edge per period; the count runs reload..1 */
  PIT_MODE_SQUARE = 3, /* the count runs down by 2, twice per period */
};

/* Programs channel 0 (lobyte/hibyte access, binary) for `hz` interrupts per second and
   returns the reload value written. */
uint16_t pit_start(uint32_t hz, enum pit_mode mode);

/* The current channel-0 count, latched so both bytes belong to the same moment. */
uint16_t pit_read_count(void);

#endif
