/* Triple fault with paging on, for the VM-stop report: the code runs through a high alias
   (0xC0000000 + its physical address, so a report that reads guest-physical memory at the
   linear address finds nothing there) with ESP on an unmapped page. The read of unmapped
   0x00C00000 is a #PF (error 0, CR2 0x00C00000); pushing its frame is a second #PF (error 2,
   CR2 0x007FFFFC), which makes a #DF; pushing the #DF frame faults the same way: shutdown.
   The report must list that chain and disassemble the mov at its alias address. */
#include <stdint.h>

#include "kprintf.h"
#include "serial.h"

static uint32_t page_dir[1024] __attribute__((aligned(4096)));
static uint32_t low_table[1024] __attribute__((aligned(4096)));
static uint64_t idt[32];
/* Multiboot leaves GDTR undefined: a flat code (0x08) and data (0x10) segment of our own. */
static const uint64_t gdt[3] = {0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull};

#define ALIAS 0xC0000000u

extern const char fault_at[];
void fault_code(void);
__asm__(
    ".text\n"
    ".globl fault_code, fault_at\n"
    "fault_code:\n"
    "  movl $0x00800000, %esp\n" /* 0x00400000-0x007FFFFF is not mapped */
    "fault_at:\n"
    "  movl 0x00C00000, %eax\n"
    "  hlt\n");

static void never(void) {
  kprintf("a handler ran: the faults were delivered\n");
  for (;;) __asm__ volatile("cli; hlt");
}

static void set_gate(int vector, void (*fn)(void), uint16_t cs) {
  uint32_t off = (uint32_t)fn;
  idt[vector] = (off & 0xffffu) | ((uint64_t)cs << 16) | ((uint64_t)0x8e00 << 32) |
                ((uint64_t)(off >> 16) << 48);
}

int kmain(uint32_t magic, const void* mbi) {
  (void)magic;
  (void)mbi;
  serial_init();
  for (uint32_t i = 0; i < 1024; i++) low_table[i] = (i << 12) | 3; /* 0-4 MiB, supervisor */
  page_dir[0] = (uint32_t)low_table | 3;
  page_dir[ALIAS >> 22] = (uint32_t)low_table | 3;
  set_gate(8, never, 0x08);
  set_gate(14, never, 0x08);
  static struct __attribute__((packed)) {
    uint16_t limit;
    uint32_t base;
  } gdtr, idtr;
  gdtr.limit = sizeof gdt - 1;
  gdtr.base = (uint32_t)gdt;
  idtr.limit = sizeof idt - 1;
  idtr.base = (uint32_t)idt;
  __asm__ volatile(
      "lgdt %0\n"
      "ljmp $0x08, $1f\n"
      "1: mov $0x10, %%ax\n"
      "mov %%ax, %%ds\n"
      "mov %%ax, %%es\n"
      "mov %%ax, %%ss\n"
      "lidt %1\n"
      :
      : "m"(gdtr), "m"(idtr)
      : "eax", "memory");
  kprintf("about to triple fault at %08x with paging on\n", (uint32_t)fault_at + ALIAS);
  __asm__ volatile(
      "mov %0, %%cr3\n"
      "mov %%cr0, %%eax\n"
      "or $0x80000000, %%eax\n"
      "mov %%eax, %%cr0\n"
      "jmp *%1\n"
      :
      : "r"(page_dir), "r"((uint32_t)fault_code + ALIAS)
      : "eax", "memory");
  return 1;
}
