#include "inline_cache.h"

namespace bt {

IcSlot* InlineCaches::take() {
  if (used_ == slots_.size()) slots_.emplace_back();
  IcSlot* s = &slots_[used_++];
  *s = IcSlot{};
  return s;
}

void InlineCaches::forget_targets(const std::unordered_set<uint64_t>& hosts) {
  if (hosts.empty()) return;
  for (size_t i = 0; i < used_; ++i)
    if (slots_[i].key && hosts.count(slots_[i].host)) slots_[i].key = 0;
}

void InlineCaches::reset() {
  for (size_t i = 0; i < used_; ++i) {
    retired_hits_ += slots_[i].hits;
    retired_misses_ += slots_[i].misses;
    slots_[i] = IcSlot{};
  }
  used_ = 0;
}

uint64_t InlineCaches::hits() const {
  uint64_t n = retired_hits_;
  for (size_t i = 0; i < used_; ++i) n += slots_[i].hits;
  return n;
}

uint64_t InlineCaches::misses() const {
  uint64_t n = retired_misses_;
  for (size_t i = 0; i < used_; ++i) n += slots_[i].misses;
  return n;
}

}  // namespace bt
