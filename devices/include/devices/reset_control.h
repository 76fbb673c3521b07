// The PIIX3/PIIX4 reset control register (RC) at port 0xCF9, the "PCI reset" Linux uses with
// reboot=pci and the register bt86's FADT names as the ACPI reset register. A byte write with
// bit 2 (RCPU) set resets the machine; bit 1 (SRST: hard rather than soft reset) is kept and
// reads back; the other bits read 0. The register shares 0xCF8-0xCFB with the PCI
// configuration address register, which only dword accesses at 0xCF8 reach on a PIIX: the
// device claims those four ports so that such an access is not split into a byte for 0xCF9,
// and answers everything but a byte at 0xCF9 as the empty bus does (all ones, writes dropped:
// bt86 has no PCI host bridge).
#pragma once

#include <cstdint>
#include <functional>

#include "devices/io_bus.h"

namespace devices {

class ResetControl final : public PortDevice {
 public:
  static constexpr uint16_t kBase = 0xcf8, kPortCount = 4;  // the register itself: 0xcf9
  static constexpr uint16_t kPort = 0xcf9;
  static constexpr uint8_t kSysReset = 0x02, kResetCpu = 0x04;

  explicit ResetControl(std::function<void()> on_reset);

  const char* name() const override { return "reset-control"; }
  uint32_t in(uint16_t port, unsigned size) override;
  void out(uint16_t port, unsigned size, uint32_t value) override;
  unsigned access_width() const override { return 4; }

  uint8_t value() const { return value_; }

 private:
  std::function<void()> on_reset_;
  uint8_t value_ = 0;
};

}  // namespace devices
