// The input format of the loader fuzz targets: byte 0 chooses the guest RAM size, byte 1 the
// size of the extra file (a multiboot module or the initrd), the rest is the kernel file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "guest_ram.h"

#if defined(__SANITIZE_ADDRESS__)  // gcc
#define BT86_FUZZ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)  // clang
#define BT86_FUZZ_ASAN 1
#endif
#endif
#ifdef BT86_FUZZ_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace fuzz {

struct LoaderInput {
  std::vector<uint8_t> kernel;
  std::vector<uint8_t> extra;  // empty: none
  monitor::GuestRam ram;       // the chosen size, in one buffer for all inputs
};

inline constexpr size_t kLoaderPrefix = 2;
inline constexpr uint64_t kRamUnit = 128 << 10, kMaxRam = 256 * kRamUnit;  // 128 KiB .. 32 MiB

// One buffer for every input (allocating 32 MiB per input made the fuzzer slow); under ASan,
// the bytes past the chosen size are poisoned, so a write past guest RAM is still caught.
inline uint8_t* ram_buffer([[maybe_unused]] uint64_t size) {
  static uint8_t* const buf = new uint8_t[kMaxRam];
#ifdef BT86_FUZZ_ASAN
  __asan_unpoison_memory_region(buf, kMaxRam);
  __asan_poison_memory_region(buf + size, kMaxRam - size);
#endif
  return buf;
}

// Fails (nullptr) when the input is too short for the prefix.
inline std::unique_ptr<LoaderInput> parse_loader_input(const uint8_t* data, size_t size) {
  if (size < kLoaderPrefix) return nullptr;
  auto in = std::make_unique<LoaderInput>();
  const uint64_t ram = (uint64_t(data[0]) + 1) * kRamUnit;
  in->ram = {ram_buffer(ram), ram};
  in->extra.assign(size_t(data[1]) * 1024 / 4, 0xA5);  // 0 .. 63.75 KiB
  in->kernel.assign(data + kLoaderPrefix, data + size);
  return in;
}

// Whether [addr, addr + len) lies in guest RAM: every address a loader returns must.
inline bool in_ram(const monitor::GuestRam& ram, uint64_t addr, uint64_t len) {
  return ram.phys(addr, len) != nullptr;
}

}  // namespace fuzz
