// The zero page (struct boot_params, Documentation/arch/x86/zero-page.rst) a loader hands a
// Linux kernel entered through the 32-bit boot protocol: the kernel's setup header with the
// loader's fields filled in, the E820 memory map and the ACPI RSDP.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "pc_memory_map.h"

namespace monitor {

inline constexpr uint8_t kLoaderTypeUndefined = 0xff;  // no boot loader ID assigned to bt86

struct ZeroPageFields {
  std::vector<uint8_t> header;  // the file's bytes [0x1f1, header_end)
  std::vector<E820Entry> e820;
  uint32_t load_address = 0;  // where the protected-mode code is (code32_start)
  uint32_t cmdline_addr = 0;
  uint32_t initrd_addr = 0, initrd_size = 0;
  uint64_t rsdp_addr = 0;
};

// Offsets in struct boot_params.
namespace zp {
inline constexpr uint32_t kAcpiRsdpAddr = 0x070, kAltMemK = 0x1e0, kE820Entries = 0x1e8,
                          kHeader = 0x1f1, kCode32Start = 0x214, kTypeOfLoader = 0x210,
                          kLoadflags = 0x211, kRamdiskImage = 0x218, kRamdiskSize = 0x21c,
                          kHeapEndPtr = 0x224, kCmdLinePtr = 0x228, kE820Table = 0x2d0;
inline constexpr unsigned kE820Max = 128;
}  // namespace zp

// Throws std::invalid_argument when the header does not fit or the map has too many entries.
std::array<uint8_t, 4096> build_zero_page(const ZeroPageFields& f);

}  // namespace monitor
