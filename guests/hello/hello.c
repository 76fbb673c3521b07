/* The first guest: proves boot, serial output and exit work, and shows what the loader
   passed in the multiboot information. */
#include <stdint.h>

#include "kprintf.h"
#include "multiboot.h"
#include "serial.h"
#include "tap.h"

static const char* mmap_type_name(uint32_t type) {
  switch (type) {
    case MULTIBOOT_MEMORY_AVAILABLE:
      return "available";
    case MULTIBOOT_MEMORY_RESERVED:
      return "reserved";
    default:
      return "other";
  }
}

/* Returns the number of available bytes the map lists, to cross-check mem_upper. */
static uint64_t print_memory_map(const struct multiboot_info* mbi) {
  uint64_t available = 0;
  uint32_t end = mbi->mmap_addr + mbi->mmap_length;
  for (uint32_t at = mbi->mmap_addr; at < end;) {
    const struct multiboot_mmap_entry* e = (const struct multiboot_mmap_entry*)at;
    kprintf("# mmap: base=0x%016llx len=0x%016llx type=%u (%s)\n", e->addr, e->len, e->type,
            mmap_type_name(e->type));
    if (e->type == MULTIBOOT_MEMORY_AVAILABLE) available += e->len;
    at += e->size + sizeof e->size;
  }
  return available;
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  serial_init();
  kputs("# hello from bt86 guest\n");
  tap_plan(5);
  if (!tap_ok(magic == MULTIBOOT_BOOTLOADER_MAGIC, "boot magic 0x%08x", magic)) tap_done();
  kprintf("# multiboot flags: 0x%08x\n", mbi->flags);

  int has_mem = (mbi->flags & MULTIBOOT_INFO_MEMORY) != 0;
  if (has_mem) kprintf("# mem_lower=%u KiB mem_upper=%u KiB\n", mbi->mem_lower, mbi->mem_upper);
  tap_ok(has_mem && mbi->mem_lower > 0 && mbi->mem_upper > 0, "memory sizes present");

  int has_mmap = (mbi->flags & MULTIBOOT_INFO_MEM_MAP) != 0;
  uint64_t available = has_mmap ? print_memory_map(mbi) : 0;
  kprintf("# mmap available: %llu KiB\n", available >> 10);
  tap_ok(has_mmap && available > 0, "memory map lists available RAM");

  int has_cmdline = (mbi->flags & MULTIBOOT_INFO_CMDLINE) != 0;
  const char* cmdline = has_cmdline ? (const char*)mbi->cmdline : "";
  kprintf("cmdline: %s\n", cmdline);
  tap_ok(has_cmdline, "command line present");

  /* _start clears .bss before kmain; a leftover byte means that loop went wrong. */
  static volatile uint32_t zeroed[256];
  uint32_t nonzero = 0;
  for (int i = 0; i < 256; i++) nonzero |= zeroed[i];
  tap_ok(nonzero == 0, "bss is zeroed");
  tap_done();
}
