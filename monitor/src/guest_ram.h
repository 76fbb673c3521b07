// Guest RAM as the kernel loaders see it: one block of bytes from guest-physical 0. The loaders
// take this view rather than the address space so that they can be run (and fuzzed) on a plain
// buffer, without the shadow window.
#pragma once

#include <cstdint>

namespace monitor {

struct GuestRam {
  uint8_t* base = nullptr;
  uint64_t size = 0;

  uint64_t ram_size() const { return size; }
  // Host pointer to guest-physical bytes [pa, pa+len), or nullptr if they are not all RAM.
  uint8_t* phys(uint64_t pa, uint64_t len) const {
    return pa + len <= size && pa + len >= pa ? base + pa : nullptr;
  }
};

}  // namespace monitor
