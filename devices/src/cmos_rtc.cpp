#include "devices/cmos_rtc.h"

#include <algorithm>
#include <chrono>

namespace devices {
namespace {

constexpr uint8_t kSet = 0x80;

bool is_time_register(uint8_t index) {
  switch (index) {
    case CmosRtc::kSeconds:
    case CmosRtc::kMinutes:
    case CmosRtc::kHours:
    case CmosRtc::kWeekday:
    case CmosRtc::kDayOfMonth:
    case CmosRtc::kMonth:
    case CmosRtc::kYear:
    case CmosRtc::kCentury:
      return true;
    default:
      return false;
  }
}

uint8_t to_bcd(unsigned v) {
  return uint8_t((v / 10) << 4 | v % 10);
}
unsigned from_bcd(uint8_t v) {
  return (v >> 4) * 10 + (v & 0xf);
}

int64_t floor_div(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

void put_le16(std::array<uint8_t, 128>& ram, uint8_t index, uint64_t value) {
  value = std::min<uint64_t>(value, 0xffff);
  ram[index] = uint8_t(value);
  ram[index + 1] = uint8_t(value >> 8);
}

}  // namespace

CmosRtc::CmosRtc(WallClock& clock, uint64_t ram_bytes) : clock_(clock) {
  s_.ram[kStatusA] = 0x26;  // 32.768 kHz time base, 1024 Hz periodic rate
  s_.ram[kStatusB] = 0x02;  // 24-hour, BCD
  s_.ram[kStatusD] = 0x80;  // valid RAM and time
  constexpr uint64_t KiB = 1024, MiB = 1024 * KiB;
  put_le16(s_.ram, 0x15, std::min<uint64_t>(ram_bytes / KiB, 640));
  const uint64_t extended_kib = ram_bytes > MiB ? (ram_bytes - MiB) / KiB : 0;
  put_le16(s_.ram, 0x17, extended_kib);
  put_le16(s_.ram, 0x30, extended_kib);
  put_le16(s_.ram, 0x34, ram_bytes > 16 * MiB ? (ram_bytes - 16 * MiB) / (64 * KiB) : 0);
  s_.last_c_read = guest_now();
}

void CmosRtc::store_time(int64_t seconds) {
  using namespace std::chrono;
  const int64_t days = floor_div(seconds, 86400);
  const int64_t in_day = seconds - days * 86400;
  const sys_days date{std::chrono::days(days)};
  const year_month_day ymd{date};
  const auto enc = [&](unsigned v) { return binary() ? uint8_t(v) : to_bcd(v); };
  unsigned hour = unsigned(in_day / 3600);
  uint8_t hour_reg;
  if (hours_24()) {
    hour_reg = enc(hour);
  } else {
    const bool pm = hour >= 12;
    hour %= 12;
    hour_reg = uint8_t(enc(hour == 0 ? 12 : hour) | (pm ? 0x80 : 0));
  }
  const int year = int(ymd.year());
  s_.ram[kSeconds] = enc(unsigned(in_day % 60));
  s_.ram[kMinutes] = enc(unsigned(in_day / 60 % 60));
  s_.ram[kHours] = hour_reg;
  s_.ram[kWeekday] = enc(weekday{date}.c_encoding() + 1);  // 1 = Sunday
  s_.ram[kDayOfMonth] = enc(unsigned(ymd.day()));
  s_.ram[kMonth] = enc(unsigned(ymd.month()));
  s_.ram[kYear] = enc(unsigned(year % 100));
  s_.ram[kCentury] = enc(unsigned(year / 100));
}

void CmosRtc::load_time() {
  using namespace std::chrono;
  const auto dec = [&](uint8_t v) { return binary() ? unsigned(v) : from_bcd(v); };
  unsigned hour = dec(s_.ram[kHours] & 0x7f);
  if (!hours_24()) {
    if (hour < 1 || hour > 12) return;
    hour = hour % 12 + ((s_.ram[kHours] & 0x80) ? 12 : 0);
  }
  const unsigned minute = dec(s_.ram[kMinutes]), second = dec(s_.ram[kSeconds]);
  const year_month_day ymd{year(int(dec(s_.ram[kCentury]) * 100 + dec(s_.ram[kYear]))),
                           month(dec(s_.ram[kMonth])), day(dec(s_.ram[kDayOfMonth]))};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 59) return;  // keep the old time
  const int64_t t = int64_t(sys_days(ymd).time_since_epoch().count()) * 86400 + hour * 3600 +
                    minute * 60 + second;
  s_.offset_seconds = t - clock_.now_utc_seconds();
}

uint8_t CmosRtc::read_register(uint8_t index) {
  if (is_time_register(index) && !frozen()) store_time(guest_now());
  switch (index) {
    case kStatusA:
      return s_.ram[kStatusA] & 0x7f;  // UIP never set
    case kStatusC: {
      const int64_t now = guest_now();
      uint8_t flags = 0;
      if (now != s_.last_c_read && !frozen()) flags |= 0x10;  // UF
      if (flags & s_.ram[kStatusB] & 0x70) flags |= 0x80;     // IRQF
      s_.last_c_read = now;
      return flags;
    }
    case kStatusD:
      return 0x80;
    default:
      return s_.ram[index];
  }
}

void CmosRtc::write_register(uint8_t index, uint8_t value) {
  switch (index) {
    case kStatusA:
      s_.ram[kStatusA] = value & 0x7f;
      return;
    case kStatusB: {
      const bool was_frozen = frozen();
      if (!was_frozen && (value & kSet)) store_time(guest_now());  // freeze what the guest sees
      s_.ram[kStatusB] = value;
      if (was_frozen && !(value & kSet)) load_time();
      return;
    }
    case kStatusC:
    case kStatusD:
      return;  // read-only
    default:
      break;
  }
  if (is_time_register(index) && !frozen()) {
    store_time(guest_now());
    s_.ram[index] = value;
    load_time();
    return;
  }
  s_.ram[index] = value;
}

uint32_t CmosRtc::in(uint16_t port, unsigned) {
  if (port == kBase) return 0xff;  // the index register is write-only
  return read_register(s_.index);
}

void CmosRtc::out(uint16_t port, unsigned, uint32_t value) {
  if (port == kBase) {
    s_.index = value & 0x7f;
    s_.nmi_disabled = value & 0x80;
  } else {
    write_register(s_.index, uint8_t(value));
  }
}

}  // namespace devices
