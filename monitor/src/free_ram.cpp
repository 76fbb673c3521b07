#include "free_ram.h"

#include <algorithm>

namespace monitor {

namespace {
constexpr uint64_t kFirstUsable = 0x1000;
}

FreeRam::FreeRam(const std::vector<E820Entry>& map) {
  for (const auto& e : map) {
    if (e.type != E820Type::Ram) continue;
    const uint64_t s = std::max(e.addr, kFirstUsable), t = e.addr + e.len;
    if (t > s) free_.emplace_back(s, t);
  }
  std::sort(free_.begin(), free_.end());
}

void FreeRam::take(uint64_t addr, uint64_t len) {
  const uint64_t end = addr + len;
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (auto [s, t] : free_) {
    if (t <= addr || s >= end) {
      out.emplace_back(s, t);
      continue;
    }
    if (s < addr) out.emplace_back(s, addr);
    if (t > end) out.emplace_back(end, t);
  }
  free_ = std::move(out);
}

bool FreeRam::is_free(uint64_t addr, uint64_t len) const {
  return std::any_of(free_.begin(), free_.end(),
                     [&](const auto& r) { return r.first <= addr && addr + len <= r.second; });
}

std::optional<uint64_t> FreeRam::take_low(uint64_t len, uint64_t align, uint64_t lo, uint64_t hi) {
  for (auto [s, t] : free_) {
    const uint64_t at = (std::max(s, lo) + align - 1) & ~(align - 1);
    if (at + len <= std::min(t, hi) && at + len >= at) {
      take(at, len);
      return at;
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> FreeRam::take_high(uint64_t len, uint64_t align, uint64_t lo, uint64_t hi) {
  for (auto it = free_.rbegin(); it != free_.rend(); ++it) {
    const uint64_t top = std::min(it->second, hi), bottom = std::max(it->first, lo);
    if (top < len || top - len < bottom) continue;
    const uint64_t at = (top - len) & ~(align - 1);
    if (at < bottom) continue;
    take(at, len);
    return at;
  }
  return std::nullopt;
}

}  // namespace monitor
