/* Ending a guest through the isa-debug-exit device at port 0xf4. */
#ifndef BT86_GUEST_EXIT_H
#define BT86_GUEST_EXIT_H

#include <stdint.h>

/* The VMM (or QEMU) exits with status (code << 1) | 1. */
void guest_exit(uint32_t code) __attribute__((noreturn));

#endif
