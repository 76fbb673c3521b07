/* The little PC setup the monitor's interrupt tests need, self-contained so these guests test
   bt86 and not a shared runtime: a flat GDT, an IDT whose IRQ 0 gate counts ticks (every other
   vector ends the run as a failure), the 8259 pair remapped to 0x20/0x28, PIT channel 0 as a
   rate generator, and CMOS reads. Symbols carry mt_ so they never clash with the runtime. */
#ifndef BT86_MT_PC_H
#define BT86_MT_PC_H

#include <stdint.h>

#include "multiboot.h"

enum { MT_IRQ0_VECTOR = 0x20, MT_PIT_HZ = 1193182 };

/* Incremented by the IRQ 0 handler, which also sends the EOI. */
extern volatile uint32_t mt_ticks;

/* GDT (0x08 code, 0x10 data, segments reloaded) and the IDT. Interrupts stay disabled. */
void mt_cpu_init(void);
/* Points an IDT vector at an interrupt handler entry (ring 0 interrupt gate). */
void mt_set_gate(int vector, const void* entry);
/* Remaps the PICs to 0x20/0x28 and unmasks IRQ 0 only. */
void mt_pic_init(void);
/* PIT channel 0 in mode 2 with this count (1193 = about 1 kHz). */
void mt_pit_start(uint16_t count);
uint16_t mt_pit_count(void);
/* The master PIC's interrupt request register. */
uint8_t mt_pic_irr(void);
uint8_t mt_cmos_read(uint8_t index);

/* The last word of the multiboot command line (QEMU puts the kernel's name first), or "". */
const char* mt_cmdline(const struct multiboot_info* mbi);
int mt_streq(const char* a, const char* b);

#endif
