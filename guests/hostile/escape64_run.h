/* The ring-0 side the escape64* guests share: a timer ticking at 100 Hz (its tick is what
   interrupts escaped 64-bit code under direct execution), #GP from ring 3 reported as the one
   TAP check (the guest's own descriptor answers a far jump to 0x33 where ring 3 is translated),
   and `entry` run in ring 3 with interrupts on. Does not return. */
#ifndef BT86_GUEST_ESCAPE64_RUN_H
#define BT86_GUEST_ESCAPE64_RUN_H

void escape64_run(void (*entry)(void)) __attribute__((noreturn));

#endif
