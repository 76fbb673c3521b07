/* A last resort against wild execution (a VMM that runs stale or wrongly mapped code can send
   a guest anywhere, past every bounded loop): PIT channel 0 at WATCHDOG_HZ on IRQ 0, and the
   tick that completes the given time prints `Bail out!` with the interrupted CS:EIP and stops
   the guest. Needs protected_init() (IDT, PIC) and owns the PIT and vector 0x20 while it runs. */
#ifndef BT86_GUEST_WATCHDOG_H
#define BT86_GUEST_WATCHDOG_H

#include <stdint.h>

#define WATCHDOG_HZ 100

/* Starts the watchdog and sets IF: the guest then runs with interrupts on. */
void watchdog_start(uint32_t seconds);
/* Clears IF and masks IRQ 0. */
void watchdog_stop(void);

#endif
