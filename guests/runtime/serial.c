#include "serial.h"

#include "portio.h"

enum {
  COM1 = 0x3f8,
  UART_DATA = 0, /* DLL while LCR.DLAB is set */
  UART_IER = 1,  /* DLM while LCR.DLAB is set */
  UART_FCR = 2,
  UART_LCR = 3,
  UART_MCR = 4,
  UART_LSR = 5,
  LCR_DLAB = 0x80,
  LCR_8N1 = 0x03,
  FCR_ENABLE_CLEAR_14 = 0xc7,
  MCR_DTR_RTS_OUT2 = 0x0b,
  LSR_THRE = 0x20,
  DIVISOR_115200 = 1,
  /* A UART model that never reports THRE must not hang the guest: send anyway. */
  THRE_SPIN_LIMIT = 100000,
};

void serial_init(void) {
  outb(COM1 + UART_IER, 0);
  outb(COM1 + UART_LCR, LCR_DLAB);
  outb(COM1 + UART_DATA, DIVISOR_115200 & 0xff);
  outb(COM1 + UART_IER, DIVISOR_115200 >> 8);
  outb(COM1 + UART_LCR, LCR_8N1);
  outb(COM1 + UART_FCR, FCR_ENABLE_CLEAR_14);
  outb(COM1 + UART_MCR, MCR_DTR_RTS_OUT2);
}

void serial_putc(char c) {
  for (int i = 0; i < THRE_SPIN_LIMIT && !(inb(COM1 + UART_LSR) & LSR_THRE); i++) {
  }
  outb(COM1 + UART_DATA, (uint8_t)c);
}
