/* Triple fault: with an empty IDT, #UD cannot be delivered (#GP), nor can #GP, so the CPU
   escalates to #DF, which cannot be delivered either: shutdown. bt86 must stop with a report. */
#include <stdint.h>

#include "kprintf.h"
#include "serial.h"

int kmain(uint32_t magic, const void* mbi) {
  (void)magic;
  (void)mbi;
  serial_init();
  kprintf("about to triple fault\n");
  static const struct __attribute__((packed)) {
    uint16_t limit;
    uint32_t base;
  } empty_idt = {0, 0};
  __asm__ volatile("lidt %0; ud2" : : "m"(empty_idt));
  return 1;
}
