// MC146818-style CMOS RTC and NVRAM at 0x70 (index, bit 7 = NMI disable) / 0x71 (data).
// The time of day is the wall clock plus an offset the guest changes by setting the clock.
//
// Not implemented: the periodic, alarm and update-ended interrupts (IRQ 8 is never raised, and
// the PF and AF flags of register C never set); UIP in register A always reads 0. Register C's
// UF flag is set when a second boundary passed since register C was last read, so polling
// code sees updates.
#pragma once

#include <array>
#include <cstdint>

#include "devices/clock.h"
#include "devices/io_bus.h"

namespace devices {

class CmosRtc final : public PortDevice {
 public:
  static constexpr uint16_t kBase = 0x70;
  static constexpr unsigned kPortCount = 2;

  // Register indices.
  static constexpr uint8_t kSeconds = 0x00, kMinutes = 0x02, kHours = 0x04, kWeekday = 0x06,
                           kDayOfMonth = 0x07, kMonth = 0x08, kYear = 0x09, kStatusA = 0x0a,
                           kStatusB = 0x0b, kStatusC = 0x0c, kStatusD = 0x0d, kCentury = 0x32;

  struct State {
    uint8_t index = 0;
    bool nmi_disabled = false;
    std::array<uint8_t, 128> ram{};  // time registers hold the frozen time while B.SET is set
    int64_t offset_seconds = 0;      // guest time minus wall-clock time
    int64_t last_c_read = 0;         // guest time (s) when register C was last read
  };

  // ram_bytes sets the memory-size bytes (0x15-0x18, 0x30-0x31, 0x34-0x35) as a BIOS would.
  CmosRtc(WallClock& clock, uint64_t ram_bytes);

  const char* name() const override { return "cmos-rtc"; }
  uint32_t in(uint16_t port, unsigned size) override;
  void out(uint16_t port, unsigned size, uint32_t value) override;

  bool nmi_disabled() const { return s_.nmi_disabled; }
  const State& state() const { return s_; }

 private:
  bool binary() const { return s_.ram[kStatusB] & 0x04; }
  bool hours_24() const { return s_.ram[kStatusB] & 0x02; }
  bool frozen() const { return s_.ram[kStatusB] & 0x80; }
  int64_t guest_now() { return clock_.now_utc_seconds() + s_.offset_seconds; }
  void store_time(int64_t seconds);  // guest time -> time registers in the current format
  void load_time();                  // time registers -> offset (ignored when not a valid time)
  uint8_t read_register(uint8_t index);
  void write_register(uint8_t index, uint8_t value);

  WallClock& clock_;
  State s_;
};

}  // namespace devices
