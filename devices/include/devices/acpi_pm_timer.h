// The ACPI power-management timer of a PC chipset (the PIIX4's PM_TMR, at QEMU's port 0x608):
// a free-running 24-bit counter at 3.579545 MHz that software can read but not write or stop.
// Linux uses it as the reference when it calibrates the TSC and as a clocksource (acpi_pm).
#pragma once

#include <cstdint>

#include "devices/clock.h"
#include "devices/io_bus.h"

namespace devices {

class AcpiPmTimer final : public PortDevice {
 public:
  static constexpr uint16_t kPort = 0x608;
  static constexpr unsigned kLen = 4;  // the FADT's PM_TMR_LEN
  static constexpr uint64_t kFrequencyHz = 3'579'545;
  static constexpr unsigned kBits = 24;  // the FADT leaves TMR_VAL_EXT clear

  // Counts from 0 at construction (power-on).
  explicit AcpiPmTimer(Clock& clock);

  const char* name() const override { return "acpi-pm-timer"; }
  uint32_t in(uint16_t port, unsigned size) override;
  // PM_TMR is read-only: a write changes nothing, as on the chipset.
  void out(uint16_t, unsigned, uint32_t) override {}
  unsigned access_width() const override { return 4; }

  // Ticks since power-on, not truncated to the register's 24 bits.
  uint64_t ticks();

 private:
  Clock& clock_;
  uint64_t start_ns_;
};

}  // namespace devices
