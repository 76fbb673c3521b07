#include "pc_memory_map.h"

#include <algorithm>

namespace monitor {

std::vector<E820Entry> pc_memory_map(uint64_t ram) {
  std::vector<E820Entry> map;
  auto add = [&](uint64_t start, uint64_t end, E820Type type) {
    end = std::min(end, ram);
    if (end > start) map.push_back({start, end - start, type});
  };
  add(0, kEbdaStart, E820Type::Ram);
  add(kEbdaStart, kLegacyHoleStart, E820Type::Reserved);
  add(kBiosAreaStart, kHighMemoryStart, E820Type::Reserved);
  add(kHighMemoryStart, ram, E820Type::Ram);
  return map;
}

namespace {
uint64_t ram_between(const std::vector<E820Entry>& map, uint64_t lo, uint64_t hi) {
  uint64_t n = 0;
  for (const auto& e : map) {
    if (e.type != E820Type::Ram) continue;
    const uint64_t s = std::max(e.addr, lo), t = std::min(e.addr + e.len, hi);
    if (t > s) n += t - s;
  }
  return n;
}
}  // namespace

uint64_t conventional_ram(const std::vector<E820Entry>& map) {
  return ram_between(map, 0, kHighMemoryStart);
}

uint64_t ram_above_1m(const std::vector<E820Entry>& map) {
  return ram_between(map, kHighMemoryStart, ~0ull);
}

}  // namespace monitor
