#include "mt_pc.h"

#include "exit.h"
#include "kprintf.h"
#include "portio.h"

volatile uint32_t mt_ticks;

/* Vector stubs, 16 bytes each: push the vector and report it. IRQ 0 has its own entry. */
__asm__(
    "  .text\n"
    "  .p2align 4\n"
    "mt_vector_stubs:\n"
    "  .set mt_vec, 0\n"
    "  .rept 256\n"
    "  .p2align 4\n"
    "  pushl $mt_vec\n"
    "  jmp mt_unexpected_common\n"
    "  .set mt_vec, mt_vec + 1\n"
    "  .endr\n"
    "mt_unexpected_common:\n"
    "  call mt_unexpected\n"
    "  .globl mt_irq0_entry\n"
    "mt_irq0_entry:\n"
    "  pushl %eax\n"
    "  incl mt_ticks\n"
    "  movb $0x20, %al\n"
    "  outb %al, $0x20\n"
    "  popl %eax\n"
    "  iret\n");
extern const char mt_vector_stubs[];
extern const char mt_irq0_entry[];

__attribute__((used, noreturn)) void mt_unexpected(uint32_t vector) {
  kprintf("not ok - unexpected interrupt or exception, vector %u\n", vector);
  guest_exit(0x40 | (vector & 0x3f));
}

/* Null, 0x08 flat 32-bit code (DPL 0), 0x10 flat data. */
static uint64_t gdt[3]
    __attribute__((aligned(8))) = {0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull};
static uint64_t idt[256] __attribute__((aligned(8)));

struct __attribute__((packed)) table_register {
  uint16_t limit;
  uint32_t base;
};

static uint64_t interrupt_gate(const void* entry) {
  uint32_t offset = (uint32_t)entry;
  return (offset & 0xffff) | (0x08ull << 16) | (0x8eull << 40) | ((uint64_t)(offset >> 16) << 48);
}

void mt_cpu_init(void) {
  struct table_register g = {sizeof gdt - 1, (uint32_t)gdt};
  __asm__ volatile(
      "lgdt %0\n"
      "ljmp $0x08, $1f\n"
      "1: movw $0x10, %%ax\n"
      "movw %%ax, %%ds\n"
      "movw %%ax, %%es\n"
      "movw %%ax, %%fs\n"
      "movw %%ax, %%gs\n"
      "movw %%ax, %%ss\n"
      :
      : "m"(g)
      : "eax", "memory");
  for (int v = 0; v < 256; ++v) idt[v] = interrupt_gate(mt_vector_stubs + 16 * v);
  idt[MT_IRQ0_VECTOR] = interrupt_gate(mt_irq0_entry);
  struct table_register i = {sizeof idt - 1, (uint32_t)idt};
  __asm__ volatile("lidt %0" : : "m"(i) : "memory");
}

void mt_set_gate(int vector, const void* entry) {
  idt[vector & 0xff] = interrupt_gate(entry);
}

void mt_pic_init(void) {
  outb(0x20, 0x11); /* ICW1: edge, cascade, ICW4 follows */
  outb(0xa0, 0x11);
  outb(0x21, 0x20); /* ICW2: vector bases */
  outb(0xa1, 0x28);
  outb(0x21, 0x04); /* ICW3: slave on input 2 */
  outb(0xa1, 0x02);
  outb(0x21, 0x01); /* ICW4: 8086 mode */
  outb(0xa1, 0x01);
  outb(0x21, 0xfe); /* only IRQ 0 */
  outb(0xa1, 0xff);
}

void mt_pit_start(uint16_t count) {
  outb(0x43, 0x34); /* channel 0, low then high byte, mode 2, binary */
  outb(0x40, (uint8_t)count);
  outb(0x40, (uint8_t)(count >> 8));
}

uint16_t mt_pit_count(void) {
  outb(0x43, 0x00); /* latch channel 0 */
  uint8_t lo = inb(0x40);
  uint8_t hi = inb(0x40);
  return (uint16_t)(lo | hi << 8);
}

uint8_t mt_pic_irr(void) {
  outb(0x20, 0x0a); /* OCW3: read IRR */
  return inb(0x20);
}

uint8_t mt_cmos_read(uint8_t index) {
  outb(0x70, index);
  return inb(0x71);
}

const char* mt_cmdline(const struct multiboot_info* mbi) {
  if (!(mbi->flags & MULTIBOOT_INFO_CMDLINE) || !mbi->cmdline) return "";
  const char* word = (const char*)mbi->cmdline;
  for (const char* p = word; *p; ++p)
    if (*p == ' ') word = p + 1;
  return word;
}

int mt_streq(const char* a, const char* b) {
  while (*a && *a == *b) ++a, ++b;
  return *a == *b;
}
