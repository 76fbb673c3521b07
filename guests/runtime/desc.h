/* Segmentation for protection tests: a flat GDT with kernel and user (DPL 3) segments, a TSS
   that gives ring-3 code a kernel stack for interrupts, and spare entries a guest can fill. */
#ifndef BT86_GUEST_DESC_H
#define BT86_GUEST_DESC_H

#include <stdint.h>

#define SEL_KERNEL_CODE 0x08
#define SEL_KERNEL_DATA 0x10
#define SEL_USER_CODE 0x1b /* index 3, RPL 3 */
#define SEL_USER_DATA 0x23 /* index 4, RPL 3 */
#define SEL_TSS 0x28

/* Entries GDT_SPARE_FIRST .. GDT_ENTRIES-1 start as null descriptors; selectors at or above
   GDT_ENTRIES * 8 are beyond the GDT limit. */
#define GDT_SPARE_FIRST 6
#define GDT_ENTRIES 10
#define GDT_SELECTOR(index, rpl) ((uint16_t)(((index) << 3) | (rpl)))

/* Access byte. */
#define DESC_PRESENT 0x80
#define DESC_DPL(n) ((n) << 5)
#define DESC_CODE_DATA 0x10 /* S = 1: not a system descriptor */
#define DESC_CODE 0x08
#define DESC_RW 0x02 /* readable code, writable data */
#define DESC_ACCESSED 0x01
/* Flags nibble. */
#define DESC_GRAN_4K 0x8
#define DESC_32BIT 0x4

/* Builds the GDT and TSS, loads GDTR, reloads CS/DS/ES/FS/GS/SS with the kernel selectors and
   loads TR. Call once, with interrupts off. */
void desc_init(void);

/* Writes GDT entry `index` (limit in bytes or, with DESC_GRAN_4K, in 4 KiB pages). */
void gdt_set(int index, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);

/* The stack the CPU switches to when an interrupt or exception arrives in ring 3. */
uint32_t tss_kernel_stack(void);
void tss_set_kernel_stack(uint32_t esp0);

static inline uint16_t read_cs(void) {
  uint16_t v;
  __asm__ volatile("movw %%cs, %0" : "=r"(v));
  return v;
}
static inline uint16_t read_ds(void) {
  uint16_t v;
  __asm__ volatile("movw %%ds, %0" : "=r"(v));
  return v;
}
static inline uint16_t read_ss(void) {
  uint16_t v;
  __asm__ volatile("movw %%ss, %0" : "=r"(v));
  return v;
}

#endif
