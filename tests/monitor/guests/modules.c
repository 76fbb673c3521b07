/* Multiboot as GRUB and QEMU hand it over: the command line starts with the kernel's path, the
   modules from --initrd "file arg,file2 arg" are page aligned above the kernel with their own
   command lines, and nothing the loader placed overlaps the kernel's image (this guest is also
   linked at 0x2000, where a fixed low-memory window for the loader's structures would collide).

   Command line: "<path> bt86.test=modules"; modules: mod_a.txt "alpha=1 beta=x,y", mod_b.txt. */
#include <stdint.h>

#include "kprintf.h"
#include "multiboot.h"
#include "serial.h"
#include "tap.h"

extern char __kernel_start[], __kernel_end[];

static int ends_with(const char* s, const char* tail) {
  const char *a = s, *b = tail;
  while (*a) a++;
  while (*b) b++;
  while (b > tail)
    if (a == s || *--a != *--b) return 0;
  return 1;
}

static int starts_with(const char* s, const char* head) {
  while (*head)
    if (*s++ != *head++) return 0;
  return 1;
}

/* Whether [a, a + n) stays clear of the kernel image. */
static int clear_of_kernel(uint32_t a, uint32_t n) {
  return a + n <= (uint32_t)__kernel_start || a >= (uint32_t)__kernel_end;
}

static uint32_t len(const char* s) {
  uint32_t n = 0;
  while (s[n]) n++;
  return n;
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  serial_init();
  kprintf("# kernel image %p-%p, info at %p\n", __kernel_start, __kernel_end, mbi);
  tap_plan(8);
  tap_ok(magic == MULTIBOOT_BOOTLOADER_MAGIC, "boot magic");
  const char* cmdline = (mbi->flags & MULTIBOOT_INFO_CMDLINE) ? (const char*)mbi->cmdline : "";
  kprintf("cmdline: %s\n", cmdline);
  tap_ok(ends_with(cmdline, "modules.elf bt86.test=modules") ||
             ends_with(cmdline, "modules_low.elf bt86.test=modules"),
         "command line is the kernel's path, then --append");
  const int have_mods = (mbi->flags & MULTIBOOT_INFO_MODS) && mbi->mods_count == 2;
  tap_ok(have_mods, "two modules (flags %x, count %u)", mbi->flags, mbi->mods_count);
  if (!have_mods) tap_done();
  const struct multiboot_module* m = (const struct multiboot_module*)mbi->mods_addr;
  for (int i = 0; i < 2; i++)
    kprintf("# module %d: %x-%x '%s'\n", i, m[i].mod_start, m[i].mod_end, (const char*)m[i].string);
  tap_ok(ends_with((const char*)m[0].string, "mod_a.txt alpha=1 beta=x,y") &&
             ends_with((const char*)m[1].string, "mod_b.txt"),
         "module command lines (',,' is a comma)");
  tap_ok(starts_with((const char*)m[0].mod_start, "MODULE-A\n") &&
             m[0].mod_end - m[0].mod_start == 9 &&
             starts_with((const char*)m[1].mod_start, "MODULE-B\n") &&
             m[1].mod_end - m[1].mod_start == 9,
         "module contents and sizes");
  tap_ok(m[0].mod_start % 4096 == 0 && m[1].mod_start % 4096 == 0 &&
             m[0].mod_start >= (uint32_t)__kernel_end && m[1].mod_start >= m[0].mod_end,
         "modules page aligned, above the kernel, in order");
  int clear = clear_of_kernel((uint32_t)mbi, sizeof *mbi) &&
              clear_of_kernel(mbi->mmap_addr, mbi->mmap_length) &&
              clear_of_kernel((uint32_t)cmdline, len(cmdline) + 1) &&
              clear_of_kernel(mbi->mods_addr, 2 * sizeof *m);
  for (int i = 0; i < 2; i++)
    clear = clear && clear_of_kernel(m[i].string, len((const char*)m[i].string) + 1);
  tap_ok(clear, "the loader's structures do not overlap the kernel image");
  int bios_area = 0;
  for (uint32_t at = mbi->mmap_addr; at < mbi->mmap_addr + mbi->mmap_length;) {
    const struct multiboot_mmap_entry* e = (const struct multiboot_mmap_entry*)at;
    if (e->addr == 0xe0000 && e->len == 0x20000 && e->type == MULTIBOOT_MEMORY_RESERVED)
      bios_area = 1;
    at += e->size + sizeof e->size;
  }
  tap_ok(bios_area, "the memory map reserves the BIOS area (ACPI tables)");
  tap_done();
}
