/* Console output for guests: a small printf over the serial port.
   Conversions: %c %s %d %i %u %x %X %p %%, flags '-' and '0', a field width,
   length modifiers l and ll (ll takes a 64-bit argument). */
#ifndef BT86_GUEST_KPRINTF_H
#define BT86_GUEST_KPRINTF_H

#include <stdarg.h>

void kputc(char c);
void kputs(const char* s); /* no newline appended */
void kprintf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char* fmt, va_list ap);

#endif
