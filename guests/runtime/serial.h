/* Polled 16550 UART on COM1: the guests' console. */
#ifndef BT86_GUEST_SERIAL_H
#define BT86_GUEST_SERIAL_H

void serial_init(void);
void serial_putc(char c);

#endif
