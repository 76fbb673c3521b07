// Multiboot v1 (0.6.96) loading of an ELF32 kernel into guest RAM.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "load_error.h"
#include "shadowmmu/address_space.h"

namespace monitor {

struct BootInfo {
  uint32_t entry = 0;
  uint32_t info_addr = 0;  // guest-physical address of the multiboot_info structure
  uint32_t kernel_start = 0, kernel_end = 0;
};

inline constexpr uint32_t kMultibootBootloaderMagic = 0x2BADB002;

// Parses `image` (the kernel file), copies its segments into RAM and builds the multiboot
// information (memory map, command line, loader name). Throws LoadError with a clear message.
BootInfo load_multiboot(const std::vector<uint8_t>& image, const std::string& path,
                        const std::string& cmdline, shadowmmu::AddressSpace& as);

}  // namespace monitor
