#include "desc.h"

struct tss {
  uint16_t link, link_hi;
  uint32_t esp0;
  uint16_t ss0, ss0_hi;
  uint32_t esp1;
  uint16_t ss1, ss1_hi;
  uint32_t esp2;
  uint16_t ss2, ss2_hi;
  uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
  uint16_t es, es_hi, cs, cs_hi, ss, ss_hi, ds, ds_hi, fs, fs_hi, gs, gs_hi, ldt, ldt_hi;
  uint16_t trap, iomap_base;
} __attribute__((packed));

_Static_assert(sizeof(struct tss) == 104, "32-bit TSS layout");

enum {
  TSS_AVAILABLE_32 = 0x09,
  KERNEL_STACK_SIZE = 0x4000,
};

static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(8)));
static struct tss tss __attribute__((aligned(128)));
static uint8_t kernel_stack[KERNEL_STACK_SIZE] __attribute__((aligned(16)));

void gdt_set(int index, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags) {
  uint64_t d = limit & 0xffff;
  d |= (uint64_t)(base & 0xffffff) << 16;
  d |= (uint64_t)access << 40;
  d |= (uint64_t)((limit >> 16) & 0xf) << 48;
  d |= (uint64_t)(flags & 0xf) << 52;
  d |= (uint64_t)(base >> 24) << 56;
  gdt[index] = d;
}

uint32_t tss_kernel_stack(void) {
  return tss.esp0;
}

void tss_set_kernel_stack(uint32_t esp0) {
  tss.esp0 = esp0;
}

void desc_init(void) {
  const uint8_t flat = DESC_GRAN_4K | DESC_32BIT;
  const uint8_t code = DESC_PRESENT | DESC_CODE_DATA | DESC_CODE | DESC_RW;
  const uint8_t data = DESC_PRESENT | DESC_CODE_DATA | DESC_RW;
  gdt[0] = 0;
  gdt_set(SEL_KERNEL_CODE >> 3, 0, 0xfffff, code, flat);
  gdt_set(SEL_KERNEL_DATA >> 3, 0, 0xfffff, data, flat);
  gdt_set(SEL_USER_CODE >> 3, 0, 0xfffff, code | DESC_DPL(3), flat);
  gdt_set(SEL_USER_DATA >> 3, 0, 0xfffff, data | DESC_DPL(3), flat);

  tss.ss0 = SEL_KERNEL_DATA;
  tss.esp0 = (uint32_t)(kernel_stack + sizeof kernel_stack);
  /* A bitmap offset past the TSS limit means "no I/O bitmap": ring 3 needs IOPL 3 for ports. */
  tss.iomap_base = sizeof tss;
  gdt_set(SEL_TSS >> 3, (uint32_t)&tss, sizeof tss - 1, DESC_PRESENT | TSS_AVAILABLE_32, 0);

  struct {
    uint16_t limit;
    uint32_t base;
  } __attribute__((packed)) gdtr = {sizeof gdt - 1, (uint32_t)gdt};
  /* The loader's descriptors stay cached until each register is reloaded, so reload them all;
     CS needs a far jump. */
  __asm__ volatile(
      "lgdt %0\n\t"
      "ljmp %1, $1f\n"
      "1:\n\t"
      "movw %w2, %%ds\n\t"
      "movw %w2, %%es\n\t"
      "movw %w2, %%fs\n\t"
      "movw %w2, %%gs\n\t"
      "movw %w2, %%ss\n\t"
      "ltr %w3"
      :
      : "m"(gdtr), "i"(SEL_KERNEL_CODE), "r"(SEL_KERNEL_DATA), "r"(SEL_TSS)
      : "memory");
}
