// A minimal ACPI 1.0 table set, as a BIOS leaves it in memory: RSDP, RSDT, FADT (the PM1a event
// and control blocks of devices::AcpiPm, SCI on IRQ 9, no SMI command port: ACPI mode from the
// start; revision 2 with the reset register, port 0xCF9), FACS, and a DSDT whose only object is
// \_S5 — so that an unmodified kernel can power the machine off and reset it the way it does on
// a PC. Every table carries a valid checksum.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace monitor {

// Offsets inside the block (the RSDP first, 16-byte aligned, as the BIOS-area search needs).
struct AcpiLayout {
  static constexpr uint32_t kRsdp = 0x00, kFacs = 0x40, kRsdt = 0x80, kFadt = 0xc0, kDsdt = 0x150;
};

// The tables for a block placed at guest-physical `base` (their pointers are absolute).
std::vector<uint8_t> build_acpi_tables(uint32_t base);

// The byte that makes `len` bytes at `p` sum to zero (the ACPI checksum rule).
uint8_t acpi_checksum(const uint8_t* p, size_t len);

}  // namespace monitor
