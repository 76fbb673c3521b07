// Multiboot v1 (0.6.96) loading of an ELF32 kernel into guest RAM.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "guest_ram.h"
#include "load_error.h"

namespace monitor {

struct BootInfo {
  uint32_t entry = 0;
  uint32_t info_addr = 0;  // guest-physical address of the multiboot_info structure
  uint32_t kernel_start = 0, kernel_end = 0;
};

inline constexpr uint32_t kMultibootBootloaderMagic = 0x2BADB002;

// A boot module (QEMU's -initrd "file arg,file2 arg"): its bytes and its command line.
struct MultibootModule {
  std::vector<uint8_t> bytes;
  std::string cmdline;  // the whole "file arg" item, as QEMU and GRUB pass it
};

// Parses `image` (the kernel file), copies its segments into RAM, places the modules above the
// kernel and builds the multiboot information (memory map, command line "path args", modules,
// loader name) in RAM the segments do not use. Throws LoadError with a clear message.
BootInfo load_multiboot(const std::vector<uint8_t>& image, const std::string& path,
                        const std::string& cmdline, const std::vector<MultibootModule>& modules,
                        const GuestRam& mem);

}  // namespace monitor
