// The PC's physical memory map as a BIOS reports it (INT 15h E820): conventional memory below
// the EBDA, the legacy hole for video memory and option ROMs, the BIOS area at 0xE0000 (where
// bt86 keeps its ACPI tables), and RAM from 1 MiB. Both loaders hand it to the kernel.
#pragma once

#include <cstdint>
#include <vector>

namespace monitor {

inline constexpr uint64_t kEbdaStart = 0x9fc00;        // 1 KiB extended BIOS data area
inline constexpr uint64_t kLegacyHoleStart = 0xa0000;  // video memory, option ROMs: not listed
inline constexpr uint64_t kBiosAreaStart = 0xe0000;    // reserved: firmware tables (ACPI)
inline constexpr uint64_t kHighMemoryStart = 0x100000;

enum class E820Type : uint32_t { Ram = 1, Reserved = 2, Acpi = 3 };

struct E820Entry {
  uint64_t addr, len;
  E820Type type;
};

// The map for `ram_bytes` of RAM starting at physical 0 (bt86's RAM is one block; the parts of
// it inside the legacy ranges are simply not offered to the kernel).
std::vector<E820Entry> pc_memory_map(uint64_t ram_bytes);

// Bytes of RAM the map offers below 1 MiB and above it, for multiboot's mem_lower/mem_upper.
uint64_t conventional_ram(const std::vector<E820Entry>& map);
uint64_t ram_above_1m(const std::vector<E820Entry>& map);

}  // namespace monitor
