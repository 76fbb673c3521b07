#include "protected_init.h"

#include "desc.h"
#include "idt.h"
#include "pic.h"
#include "serial.h"

void protected_init(void) {
  serial_init();
  desc_init();
  idt_init();
  pic_init();
}
