// The ACPI fixed-hardware power-management registers a PC chipset has (the PIIX4's PM block at
// QEMU's ports): the PM1a event block (PM1_STS, PM1_EN) and the PM1a control block (PM1_CNT).
// Writing SLP_EN with a sleep type enters that sleep state; bt86's DSDT offers only S5 (soft
// off), so that is a power-off and any other type is reported to the monitor as unsupported.
// No PM timer, no general-purpose events: the FADT lists neither.
#pragma once

#include <cstdint>
#include <functional>

#include "devices/io_bus.h"

namespace devices {

class AcpiPm final : public PortDevice {
 public:
  static constexpr uint16_t kPm1aEvtBase = 0x600;  // PM1_STS (2 bytes), PM1_EN (2 bytes)
  static constexpr uint16_t kPm1aCntBase = 0x604;  // PM1_CNT (2 bytes)
  static constexpr unsigned kPortCount = 6;        // both blocks, contiguous
  static constexpr unsigned kEvtLen = 4, kCntLen = 2;
  static constexpr unsigned kSciIrq = 9;
  static constexpr uint8_t kSlpTypS5 = 5;  // the value the DSDT's \_S5 gives

  static constexpr uint16_t kSciEn = 1u << 0, kSlpEn = 1u << 13;
  static constexpr unsigned kSlpTypShift = 10;

  struct State {
    uint16_t sts = 0, en = 0;
    uint16_t cnt = kSciEn;  // ACPI mode from the start: the FADT has no SMI command port
  };

  // on_sleep(slp_typ): the guest wrote SLP_EN. Called inside the port access.
  explicit AcpiPm(std::function<void(uint8_t slp_typ)> on_sleep);

  const char* name() const override { return "acpi-pm"; }
  uint32_t in(uint16_t port, unsigned size) override;
  void out(uint16_t port, unsigned size, uint32_t value) override;

  const State& state() const { return s_; }

 private:
  std::function<void(uint8_t)> on_sleep_;
  State s_;
};

}  // namespace devices
