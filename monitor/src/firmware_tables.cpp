#include "firmware_tables.h"

#include <cstring>

#include "acpi_tables.h"
#include "pc_memory_map.h"

namespace monitor {

namespace {
constexpr uint32_t kBdaEbdaSegment = 0x40e;  // u16: segment of the EBDA
constexpr uint32_t kBdaBaseMemory = 0x413;   // u16: KiB of conventional memory
}  // namespace

uint32_t install_firmware_tables(shadowmmu::AddressSpace& as) {
  if (uint8_t* bda = as.phys(0x400, 0x100)) {
    const uint16_t ebda_seg = uint16_t(kEbdaStart >> 4), base_kib = uint16_t(kEbdaStart >> 10);
    std::memcpy(bda + (kBdaEbdaSegment - 0x400), &ebda_seg, 2);
    std::memcpy(bda + (kBdaBaseMemory - 0x400), &base_kib, 2);
  }
  const auto tables = build_acpi_tables(kAcpiTablesBase);
  uint8_t* dst = as.phys(kAcpiTablesBase, tables.size());
  if (!dst || as.ram_size() < kHighMemoryStart) return 0;
  std::memcpy(dst, tables.data(), tables.size());
  return kAcpiTablesBase + AcpiLayout::kRsdp;
}

}  // namespace monitor
