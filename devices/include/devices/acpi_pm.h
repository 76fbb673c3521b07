// The ACPI fixed-hardware power-management registers a PC chipset has (the PIIX4's PM block at
// QEMU's ports): the PM1a event block (PM1_STS, PM1_EN) and the PM1a control block (PM1_CNT).
// Writing SLP_EN with a sleep type enters that sleep state; bt86's DSDT offers only S5 (soft
// off), so that is a power-off and any other type is reported to the monitor as unsupported.
// PM1_STS.TMR_STS follows the PM timer (acpi_pm_timer.h); its overflow interrupt (TMR_EN) is
// not modelled and reported as unsupported. No general-purpose events: the FADT lists none.
#pragma once

#include <cstdint>
#include <functional>

#include "devices/acpi_pm_timer.h"
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
  static constexpr uint16_t kTmrSts = 1u << 0, kTmrEn = 1u << 0;  // in PM1_STS, PM1_EN
  static constexpr unsigned kSlpTypShift = 10;

  struct State {
    uint16_t sts = 0, en = 0;
    uint16_t cnt = kSciEn;  // ACPI mode from the start: the FADT has no SMI command port
  };

  // on_sleep(slp_typ): the guest wrote SLP_EN. on_unsupported(what): the guest turned on
  // something not modelled (the timer's overflow interrupt). Both are called inside the port
  // access. Without a timer TMR_STS stays clear.
  explicit AcpiPm(std::function<void(uint8_t slp_typ)> on_sleep, AcpiPmTimer* timer = nullptr,
                  std::function<void(const char* what)> on_unsupported = {});

  const char* name() const override { return "acpi-pm"; }
  uint32_t in(uint16_t port, unsigned size) override;
  void out(uint16_t port, unsigned size, uint32_t value) override;

  const State& state() const { return s_; }

 private:
  uint16_t status();
  std::function<void(uint8_t)> on_sleep_;
  AcpiPmTimer* timer_;
  std::function<void(const char*)> on_unsupported_;
  uint64_t tmr_sts_cleared_ = 0;  // timer ticks when software last cleared TMR_STS
  State s_;
};

}  // namespace devices
