// What a PC BIOS leaves in memory for the operating system, whichever loader starts it: the BIOS
// data area words kernels read (base memory size, EBDA segment) and the ACPI tables in the
// reserved BIOS area at 0xE0000 (where the RSDP search looks).
#pragma once

#include <cstdint>

#include "shadowmmu/address_space.h"

namespace monitor {

inline constexpr uint32_t kAcpiTablesBase = 0xe0000;

// Writes them into guest RAM. Returns the RSDP's guest-physical address, or 0 when RAM does not
// reach the BIOS area (a machine below 1 MiB has no ACPI).
uint32_t install_firmware_tables(shadowmmu::AddressSpace& as);

}  // namespace monitor
