/* Interrupts reach the guest: PIT ticks (IRQ 0 through the remapped PIC) interrupt a spin with
   IF = 1 and wake sti; hlt, none arrives while IF = 0, the one held pending arrives right after
   sti; plus CMOS reads. Every
   wait is bounded by an iteration count and fails instead of hanging; nothing compares elapsed
   time with a threshold. */
#include <stdint.h>

#include "kprintf.h"
#include "mt_pc.h"
#include "portio.h"
#include "serial.h"
#include "tap.h"

enum {
  PIT_COUNT = 1193, /* about 1 kHz */
  TICKS_WANTED = 10,
  HLT_CAP = 1000000,    /* far more hlts than ticks is a hlt that did not wait */
  PERIODS_WITH_CLI = 5, /* PIT periods to watch with interrupts disabled */
  COUNT_READS_CAP = 5000000,
};

/* Before any hlt or other exit the guest might make: the monitor must notice the PIT being
   programmed on its own. */
static void test_ticks_while_spinning(void) {
  const uint32_t before = mt_ticks;
  uint32_t periods = 0, reads = 0;
  uint16_t last = mt_pit_count();
  __asm__ volatile("sti" ::: "memory");
  while (mt_ticks - before < 3 && periods < 100 && reads < COUNT_READS_CAP) {
    uint16_t now = mt_pit_count();
    if (now > last) ++periods;
    last = now;
    ++reads;
  }
  __asm__ volatile("cli" ::: "memory");
  tap_ok(mt_ticks - before >= 3,
         "ticks arrive while the guest spins with IF = 1 (%u in %u periods)", mt_ticks - before,
         periods);
}

/* Counts ticks from here: periods the host made late in the test before may still be owed, and
   the ticks counted before must not end the loop before it ran. */
static void test_hlt_wakes_on_ticks(void) {
  const uint32_t before = mt_ticks;
  uint32_t hlts = 0;
  while (mt_ticks - before < TICKS_WANTED && hlts < HLT_CAP) {
    ++hlts;
    __asm__ volatile("sti; hlt" ::: "memory");
  }
  __asm__ volatile("cli" ::: "memory");
  uint32_t ticks = mt_ticks - before;
  tap_ok(ticks >= TICKS_WANTED, "%u timer ticks woke sti; hlt (%u hlts)", ticks, hlts);
  /* Only IRQ 0 is unmasked and nothing else counts, so each hlt needs a tick to return. */
  tap_ok(hlts <= ticks, "every hlt waited for an interrupt (%u hlts, %u ticks)", hlts, ticks);
}

static void test_no_tick_with_cli_then_sti(void) {
  __asm__ volatile("cli" ::: "memory");
  const uint32_t before = mt_ticks;
  /* Mode 2 counts down and reloads: a count above the previous one is a new period. */
  uint32_t periods = 0, reads = 0;
  uint16_t last = mt_pit_count();
  while (periods < PERIODS_WITH_CLI && reads < COUNT_READS_CAP) {
    uint16_t now = mt_pit_count();
    if (now > last) ++periods;
    last = now;
    ++reads;
  }
  const uint32_t during = mt_ticks;
  tap_ok(periods == PERIODS_WITH_CLI, "the PIT count ran through %u periods (%u reads)", periods,
         reads);
  tap_ok(during == before, "no tick with interrupts disabled (%u arrived)", during - before);
  tap_ok(mt_pic_irr() & 1, "IRQ 0 is pending in the PIC meanwhile");
  /* One instruction after sti may run before the interrupt; cli then closes the window, so
     the tick must have been taken exactly there. */
  __asm__ volatile("sti; nop; cli" ::: "memory");
  const uint32_t after = mt_ticks;
  tap_ok(after > during, "the pending tick arrived right after sti (%u)", after - during);
}

static int valid_seconds(uint8_t v, int binary) {
  if (binary) return v < 60;
  return (v & 0x0f) <= 9 && v <= 0x59;
}

static unsigned seconds_value(uint8_t v, int binary) {
  return binary ? v : (unsigned)(v >> 4) * 10 + (v & 0x0f);
}

static uint16_t cmos_word(uint8_t index) {
  return (uint16_t)(mt_cmos_read(index) | mt_cmos_read(index + 1) << 8);
}

/* "ram_mib=N" on the command line: the RAM size the VMM was given, or 0 without one. */
static uint32_t ram_mib_from(const char* word) {
  const char* prefix = "ram_mib=";
  for (; *prefix; ++prefix, ++word)
    if (*word != *prefix) return 0;
  uint32_t n = 0;
  for (; *word >= '0' && *word <= '9'; ++word) n = n * 10 + (uint32_t)(*word - '0');
  return n;
}

static uint32_t capped(uint32_t v) {
  return v > 0xffff ? 0xffff : v;
}

static void test_cmos(uint32_t ram_mib) {
  const int binary = mt_cmos_read(0x0b) & 0x04;
  const uint8_t s1 = mt_cmos_read(0x00);
  const uint8_t s2 = mt_cmos_read(0x00);
  tap_ok(valid_seconds(s1, binary) && valid_seconds(s2, binary),
         "CMOS seconds read twice: 0x%02x 0x%02x (%s)", s1, s2, binary ? "binary" : "BCD");
  /* Back to back, so the same second or the next one. */
  const unsigned step = (seconds_value(s2, binary) + 60 - seconds_value(s1, binary)) % 60;
  tap_ok(step <= 1, "the second read follows the first (step %u)", step);

  /* What a BIOS stores for this much RAM (QEMU's CMOS agrees). */
  tap_ok(ram_mib >= 2, "the command line gives the RAM size (ram_mib=%u)", ram_mib);
  tap_ok(cmos_word(0x15) == 640, "CMOS base memory %u KiB", cmos_word(0x15));
  const uint32_t extended = capped((ram_mib - 1) * 1024);
  tap_ok(cmos_word(0x17) == extended && cmos_word(0x30) == extended,
         "CMOS extended memory %u/%u KiB (expected %u)", cmos_word(0x17), cmos_word(0x30),
         extended);
  const uint32_t blocks = capped(ram_mib > 16 ? (ram_mib - 16) * 16 : 0);
  tap_ok(cmos_word(0x34) == blocks, "CMOS 64 KiB blocks above 16 MiB: %u (expected %u)",
         cmos_word(0x34), blocks);
}

int kmain(uint32_t magic, const struct multiboot_info* mbi) {
  (void)magic;
  serial_init();
  tap_plan(15);
  mt_cpu_init();
  mt_pic_init();
  mt_pit_start(PIT_COUNT);

  test_ticks_while_spinning();
  test_hlt_wakes_on_ticks();
  test_no_tick_with_cli_then_sti();
  test_cmos(ram_mib_from(mt_cmdline(mbi)));
  tap_ok(inb(0x64) != 0xff, "the i8042 answers at port 0x64 (status 0x%02x)", inb(0x64));
  tap_ok(inb(0x92) & 0x02, "port 0x92 reports A20 enabled");
  tap_done();
}
