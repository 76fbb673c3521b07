/* A test kernel in bzImage form: checks what a loader using the Linux 32-bit boot protocol
   handed it (entry state, zero page, setup header fields, E820 map, command line, initrd, the
   BIOS data area and the ACPI tables), prints TAP, and then powers the machine off through
   ACPI the way Linux does (SLP_TYP from \_S5 and SLP_EN into PM1a_CNT). A failed check ends
   through isa-debug-exit instead, so only a fully passing run exits with status 0.

   Command line: "initrd_size=N mem_mib=M load=0xADDR" (what the test passed to bt86). */
#include <stdint.h>

#include "exit.h"
#include "kprintf.h"
#include "portio.h"
#include "serial.h"
#include "tap.h"

struct entry_state {
  uint32_t esi, ebx, ebp, edi;
  uint16_t cs, ds, es, ss;
  uint32_t eflags, cr0;
};

static int failures;
#define CHECK(cond, ...) (tap_ok((cond), __VA_ARGS__) ? 1 : (failures++, 0))

/* Physical memory reads; the empty asm hides the constant addresses (the BIOS data area) from
   gcc's bounds warnings. */
#define PHYS(type, a)            \
  do {                           \
    __asm__("" : "+r"(a));       \
    return *(volatile type*)(a); \
  } while (0)
static uint8_t u8(uint32_t a) {
  PHYS(uint8_t, a);
}
static uint16_t u16(uint32_t a) {
  PHYS(uint16_t, a);
}
static uint32_t u32(uint32_t a) {
  PHYS(uint32_t, a);
}
static uint64_t u64(uint32_t a) {
  PHYS(uint64_t, a);
}

static int mem_eq(uint32_t a, const char* s, int n) {
  for (int i = 0; i < n; i++)
    if (u8(a + i) != (uint8_t)s[i]) return 0;
  return 1;
}

static uint8_t sum(uint32_t a, uint32_t n) {
  uint8_t s = 0;
  for (uint32_t i = 0; i < n; i++) s += u8(a + i);
  return s;
}

/* The value of "key=" in the command line (decimal or 0x hex), or 0. */
static uint32_t param(const char* cmdline, const char* key) {
  for (const char* p = cmdline; *p; p++) {
    const char *k = key, *q = p;
    while (*k && *q == *k) k++, q++;
    if (*k || (p != cmdline && p[-1] != ' ')) continue;
    uint32_t v = 0, base = 10;
    if (q[0] == '0' && q[1] == 'x') base = 16, q += 2;
    for (;; q++) {
      uint32_t d;
      if (*q >= '0' && *q <= '9')
        d = *q - '0';
      else if (base == 16 && *q >= 'a' && *q <= 'f')
        d = *q - 'a' + 10;
      else
        break;
      v = v * base + d;
    }
    return v;
  }
  return 0;
}

static void check_entry(const struct entry_state* s) {
  CHECK(s->cs == 0x10 && s->ds == 0x18 && s->es == 0x18 && s->ss == 0x18,
        "CS = __BOOT_CS, DS/ES/SS = __BOOT_DS (%x %x %x %x)", s->cs, s->ds, s->es, s->ss);
  CHECK(s->ebx == 0 && s->ebp == 0 && s->edi == 0, "EBX, EBP, EDI are zero");
  CHECK(!(s->eflags & 0x200), "interrupts off (EFLAGS %x)", s->eflags);
  CHECK((s->cr0 & 0x80000001) == 1, "protected mode, paging off (CR0 %x)", s->cr0);
}

static void check_header(uint32_t zp, uint32_t load) {
  CHECK(mem_eq(zp + 0x202, "HdrS", 4) && u16(zp + 0x206) == 0x020f && u16(zp + 0x1fe) == 0xaa55,
        "setup header copied into the zero page");
  CHECK(u8(zp + 0x210) == 0xff, "type_of_loader 0xff (undefined) (%x)", u8(zp + 0x210));
  CHECK((u8(zp + 0x211) & 0x81) == 0x81 && u16(zp + 0x224) != 0,
        "loadflags LOADED_HIGH | CAN_USE_HEAP, heap_end_ptr set (%x, %x)", u8(zp + 0x211),
        u16(zp + 0x224));
  CHECK(u32(zp + 0x214) == load, "code32_start = the load address %x (%x)", load, u32(zp + 0x214));
}

static void check_e820(uint32_t zp, uint32_t mem_mib) {
  const uint32_t n = u8(zp + 0x1e8);
  int low = 0, bios = 0, high = 0, ebda = 0;
  for (uint32_t i = 0; i < n; i++) {
    const uint32_t e = zp + 0x2d0 + 20 * i;
    const uint64_t addr = u64(e), len = u64(e + 8);
    const uint32_t type = u32(e + 16);
    kprintf("# e820 %08llx-%08llx type %u\n", addr, addr + len, type);
    if (addr == 0 && len == 0x9fc00 && type == 1) low = 1;
    if (addr == 0x9fc00 && len == 0x400 && type == 2) ebda = 1;
    if (addr == 0xe0000 && len == 0x20000 && type == 2) bios = 1;
    if (addr == 0x100000 && addr + len == (uint64_t)mem_mib << 20 && type == 1) high = 1;
  }
  CHECK(n == 4 && low && ebda && bios && high,
        "e820: RAM below the EBDA, EBDA, BIOS area, RAM from 1 MiB to %u MiB", mem_mib);
  CHECK(u32(zp + 0x1e0) == (mem_mib - 1) * 1024, "alt_mem_k %u", u32(zp + 0x1e0));
}

static void check_initrd(uint32_t zp, uint32_t want_size, uint32_t mem_mib, uint32_t load) {
  const uint32_t at = u32(zp + 0x218), size = u32(zp + 0x21c);
  kprintf("# initrd at %x, %u bytes\n", at, size);
  CHECK(size == want_size && at % 4096 == 0 && at >= load + 0x100000 &&
            (uint64_t)at + size <= (uint64_t)mem_mib << 20,
        "initrd: page aligned, above the kernel's init_size, inside RAM");
  CHECK(size >= 12 && mem_eq(at, "BT86-INITRD\n", 12) && u8(at + size - 1) == '\n',
        "initrd contents");
}

/* The RSDP the BIOS-area search finds, the one the zero page names, and the tables below. */
static void check_acpi(uint32_t zp, uint16_t* pm1a_cnt, uint8_t* slp_typ) {
  uint32_t rsdp = 0;
  for (uint32_t a = 0xe0000; a < 0x100000 && !rsdp; a += 16)
    if (mem_eq(a, "RSD PTR ", 8) && sum(a, 20) == 0) rsdp = a;
  CHECK(rsdp && u64(zp + 0x070) == rsdp, "RSDP in the BIOS area, in acpi_rsdp_addr (%x)", rsdp);
  if (!rsdp) return;
  const uint32_t rsdt = u32(rsdp + 16);
  CHECK(mem_eq(rsdt, "RSDT", 4) && sum(rsdt, u32(rsdt + 4)) == 0 && u32(rsdt + 4) == 40,
        "RSDT with one entry, checksum valid");
  const uint32_t fadt = u32(rsdt + 36);
  CHECK(mem_eq(fadt, "FACP", 4) && sum(fadt, u32(fadt + 4)) == 0 && u16(fadt + 46) == 9 &&
            u32(fadt + 56) && u32(fadt + 64) && u8(fadt + 88) == 4 && u8(fadt + 89) == 2 &&
            u32(fadt + 48) == 0,
        "FADT: checksum, SCI 9, PM1a event and control blocks, no SMI command port");
  const uint32_t facs = u32(fadt + 36), dsdt = u32(fadt + 40);
  CHECK(mem_eq(facs, "FACS", 4) && u32(facs + 4) == 64 && facs % 64 == 0, "FACS");
  int s5 = 0;
  if (mem_eq(dsdt, "DSDT", 4) && sum(dsdt, u32(dsdt + 4)) == 0)
    for (uint32_t a = dsdt + 36; a + 10 <= dsdt + u32(dsdt + 4); a++)
      if (u8(a) == 0x08 && mem_eq(a + 1, "_S5_", 4) && u8(a + 5) == 0x12 && u8(a + 8) == 0x0a) {
        *slp_typ = u8(a + 9);
        s5 = 1;
      }
  CHECK(s5, "DSDT: checksum, \\_S5 package (SLP_TYP %u)", *slp_typ);
  *pm1a_cnt = (uint16_t)u32(fadt + 64);
  CHECK(inw(*pm1a_cnt) & 1, "PM1a_CNT reads SCI_EN (ACPI mode)");
}

int linuxboot_main(uint32_t zp, const struct entry_state* s) {
  serial_init();
  kputs("# bt86 linuxboot test kernel\n");
  tap_plan(21);
  check_entry(s);
  CHECK(zp != 0 && zp < 0xa0000 && zp % 4096 == 0, "ESI = the zero page, in low memory (%x)", zp);
  const char* cmdline = (const char*)u32(zp + 0x228);
  CHECK(cmdline && (uint32_t)cmdline < 0xa0000, "cmd_line_ptr in low memory");
  kprintf("cmdline: %s\n", cmdline);
  const uint32_t load = param(cmdline, "load="), mem_mib = param(cmdline, "mem_mib=");
  check_header(zp, load);
  check_e820(zp, mem_mib);
  check_initrd(zp, param(cmdline, "initrd_size="), mem_mib, load);
  CHECK(u16(0x413) == 639 && u16(0x40e) == 0x9fc0, "BIOS data area: 639 KiB, EBDA at 0x9fc00");
  uint16_t pm1a_cnt = 0;
  uint8_t slp_typ = 0;
  check_acpi(zp, &pm1a_cnt, &slp_typ);
  if (failures || !pm1a_cnt) guest_exit(1);
  kputs("# powering off through ACPI\n");
  outw(pm1a_cnt, (uint16_t)((slp_typ << 10) | (1u << 13)));
  kputs("# still running after SLP_EN\n");
  guest_exit(2);
}
