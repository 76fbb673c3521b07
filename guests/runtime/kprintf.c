#include "kprintf.h"

#include <stdint.h>

#include "serial.h"

void kputc(char c) {
  serial_putc(c);
}

void kputs(const char* s) {
  while (*s) kputc(*s++);
}

struct spec {
  int left;
  char pad;
  int width;
};

static void emit_padded(const struct spec* sp, const char* s, int len) {
  int fill = sp->width > len ? sp->width - len : 0;
  if (!sp->left && sp->pad == '0' && len > 0 && s[0] == '-') {
    /* Zero padding goes between the sign and the digits. */
    kputc('-');
    s++;
    len--;
  }
  if (!sp->left)
    for (int i = 0; i < fill; i++) kputc(sp->pad);
  for (int i = 0; i < len; i++) kputc(s[i]);
  if (sp->left)
    for (int i = 0; i < fill; i++) kputc(' ');
}

/* v /= base, returning the remainder, by long division in 32-bit halves: no libgcc call
   (Debian's libgcc is built with endbr32, a hint nop a Pentium (--cpu pentium) does not have). */
static unsigned divmod_small(uint64_t* v, unsigned base) {
  uint32_t hi = (uint32_t)(*v >> 32), lo = (uint32_t)*v;
  uint32_t qhi = hi / base, r = hi % base;
  uint32_t qlo = 0;
  for (int bit = 31; bit >= 0; bit--) { /* (r:lo) / base, one bit at a time: r < base */
    r = r << 1 | (lo >> bit & 1);
    if (r >= base) {
      r -= base;
      qlo |= 1u << bit;
    }
  }
  *v = (uint64_t)qhi << 32 | qlo;
  return r;
}

static void emit_number(const struct spec* sp, uint64_t v, int negative, unsigned base, int upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char buf[24];
  int pos = sizeof buf;
  do {
    buf[--pos] = digits[divmod_small(&v, base)];
  } while (v);
  if (negative) buf[--pos] = '-';
  emit_padded(sp, buf + pos, (int)sizeof buf - pos);
}

void kvprintf(const char* fmt, va_list ap) {
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      kputc(*fmt);
      continue;
    }
    struct spec sp = {0, ' ', 0};
    fmt++;
    for (;; fmt++) {
      if (*fmt == '-')
        sp.left = 1;
      else if (*fmt == '0')
        sp.pad = '0';
      else
        break;
    }
    while (*fmt >= '0' && *fmt <= '9') sp.width = sp.width * 10 + (*fmt++ - '0');
    int longs = 0;
    while (*fmt == 'l') {
      longs++;
      fmt++;
    }
    switch (*fmt) {
      case 'c': {
        char c = (char)va_arg(ap, int);
        emit_padded(&sp, &c, 1);
        break;
      }
      case 's': {
        const char* s = va_arg(ap, const char*);
        if (!s) s = "(null)";
        int len = 0;
        while (s[len]) len++;
        emit_padded(&sp, s, len);
        break;
      }
      case 'd':
      case 'i': {
        int64_t v = longs >= 2 ? va_arg(ap, int64_t) : va_arg(ap, int32_t);
        uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
        emit_number(&sp, mag, v < 0, 10, 0);
        break;
      }
      case 'u':
      case 'x':
      case 'X': {
        uint64_t v = longs >= 2 ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t);
        emit_number(&sp, v, 0, *fmt == 'u' ? 10 : 16, *fmt == 'X');
        break;
      }
      case 'p': {
        kputs("0x");
        sp.pad = '0';
        sp.width = 8;
        emit_number(&sp, (uintptr_t)va_arg(ap, void*), 0, 16, 0);
        break;
      }
      case '%':
        kputc('%');
        break;
      case '\0':
        return;
      default:
        /* Unknown conversions are printed as written so the mistake is visible. */
        kputc('%');
        kputc(*fmt);
        break;
    }
  }
}

void kprintf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  kvprintf(fmt, ap);
  va_end(ap);
}
