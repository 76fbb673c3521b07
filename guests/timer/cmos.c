#include "cmos.h"

#include <stdint.h>

#include "kprintf.h"
#include "portio.h"
#include "tap.h"

enum {
  CMOS_INDEX = 0x70,
  CMOS_DATA = 0x71,
  NMI_DISABLE = 0x80, /* kept set in the index: the RTC is the NMI mask too */
  REG_SECONDS = 0x00,
  REG_MINUTES = 0x02,
  REG_HOURS = 0x04,
  REG_DAY = 0x07,
  REG_MONTH = 0x08,
  REG_YEAR = 0x09,
  REG_A = 0x0a,
  REG_B = 0x0b,
  REG_D = 0x0d,
  A_UIP = 0x80,
  A_DIVIDER = 0x70,
  A_DIVIDER_32K = 0x20, /* the 32.768 kHz time base every PC uses */
  B_24H = 0x02,
  B_BINARY = 0x04,
  D_VALID = 0x80,
  HOURS_PM = 0x80,
  UIP_SPIN_CAP = 1000000,
};

static uint8_t cmos_read(uint8_t reg) {
  outb(CMOS_INDEX, NMI_DISABLE | reg);
  return inb(CMOS_DATA);
}

struct rtc_time {
  uint8_t sec, min, hour, day, month, year;
};

static int valid_bcd(uint8_t v) {
  return (v & 0x0f) <= 9 && (v >> 4) <= 9;
}

/* Decodes a field per status B; -1 if it is not a valid encoding. */
static int decode(uint8_t v, int binary) {
  if (binary) return v;
  return valid_bcd(v) ? (v >> 4) * 10 + (v & 0x0f) : -1;
}

static void read_time(struct rtc_time* t) {
  /* The time is stable for 244 us after UIP reads 0. */
  for (int i = 0; i < UIP_SPIN_CAP && (cmos_read(REG_A) & A_UIP); i++) {
  }
  t->sec = cmos_read(REG_SECONDS);
  t->min = cmos_read(REG_MINUTES);
  t->hour = cmos_read(REG_HOURS);
  t->day = cmos_read(REG_DAY);
  t->month = cmos_read(REG_MONTH);
  t->year = cmos_read(REG_YEAR);
}

void cmos_checks(void) {
  uint8_t a = cmos_read(REG_A), b = cmos_read(REG_B), d = cmos_read(REG_D);
  kprintf("# CMOS status A 0x%02x B 0x%02x D 0x%02x\n", a, b, d);
  tap_ok((a & A_DIVIDER) == A_DIVIDER_32K, "CMOS status A selects the 32.768 kHz time base");
  tap_ok((d & D_VALID) && (b & 0x80) == 0, "CMOS status D says valid, status B not in SET mode");

  int binary = (b & B_BINARY) != 0;
  struct rtc_time t, t2;
  read_time(&t);
  kprintf("# RTC (%s, %s): 20%02x-%02x-%02x %02x:%02x:%02x (raw)\n", binary ? "binary" : "BCD",
          b & B_24H ? "24h" : "12h", t.year, t.month, t.day, t.hour, t.min, t.sec);
  int sec = decode(t.sec, binary), min = decode(t.min, binary);
  int pm = !(b & B_24H) && (t.hour & HOURS_PM);
  int hour = decode(t.hour & (b & B_24H ? 0xff : (uint8_t)~HOURS_PM), binary);
  int hour_ok = b & B_24H ? hour >= 0 && hour <= 23 : hour >= 1 && hour <= 12;
  tap_ok(sec >= 0 && sec <= 59 && min >= 0 && min <= 59 && hour_ok,
         "RTC time %02d:%02d:%02d%s is a valid %s time", hour, min, sec, pm ? " pm" : "",
         binary ? "binary" : "BCD");
  int day = decode(t.day, binary), month = decode(t.month, binary), year = decode(t.year, binary);
  tap_ok(day >= 1 && day <= 31 && month >= 1 && month <= 12 && year >= 0 && year <= 99,
         "RTC date %02d-%02d-%02d is valid", year, month, day);

  read_time(&t2);
  int sec2 = decode(t2.sec, binary);
  int delta = (sec2 - sec + 60) % 60;
  tap_ok(sec2 >= 0 && delta <= 1, "RTC seconds read again: %d then %d", sec, sec2);
}
