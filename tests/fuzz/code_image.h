// Guest code bytes as a bootable kernel file: a multiboot v1 ELF32 whose one segment holds the
// bytes at kCodeAddress, which is also its entry point.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fuzz {

inline constexpr uint32_t kCodeAddress = 0x100000;

std::vector<uint8_t> multiboot_code_image(const uint8_t* code, size_t size);

}  // namespace fuzz
