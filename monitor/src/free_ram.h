// The guest-physical RAM a loader may still place things in: the memory map's RAM, less what
// the kernel's own image occupies and what was placed already. Page 0 (the real-mode IVT and
// the BIOS data area) is never handed out.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "pc_memory_map.h"

namespace monitor {

class FreeRam {
 public:
  explicit FreeRam(const std::vector<E820Entry>& map);

  // Marks [addr, addr + len) as used.
  void take(uint64_t addr, uint64_t len);
  // Whether all of [addr, addr + len) is free RAM.
  bool is_free(uint64_t addr, uint64_t len) const;
  // The lowest (highest) free block of `len` bytes aligned to `align` inside [lo, hi), taken;
  // nullopt if there is none. align is a power of two.
  std::optional<uint64_t> take_low(uint64_t len, uint64_t align, uint64_t lo = 0,
                                   uint64_t hi = ~0ull);
  std::optional<uint64_t> take_high(uint64_t len, uint64_t align, uint64_t lo = 0,
                                    uint64_t hi = ~0ull);

 private:
  std::vector<std::pair<uint64_t, uint64_t>> free_;  // sorted, disjoint [start, end)
};

}  // namespace monitor
