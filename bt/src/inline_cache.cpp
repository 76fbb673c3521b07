#include "inline_cache.h"

namespace bt {

IcSlot* InlineCaches::take() {
  IcSlot* s;
  if (!free_.empty()) {
    s = free_.back();
    free_.pop_back();
  } else {
    if (used_ == slots_.size()) slots_.emplace_back();
    s = &slots_[used_++];
  }
  *s = IcSlot{};
  ++live_;
  return s;
}

void InlineCaches::release(IcSlot* s) {
  retire(*s);
  free_.push_back(s);
  --live_;
  ++reclaimed_;
}

void InlineCaches::retire(IcSlot& s) {
  retired_hits_ += s.hits;
  retired_misses_ += s.misses;
  s = IcSlot{};  // a free slot leads nowhere and counts nothing twice
}

void InlineCaches::forget_targets(const std::unordered_set<uint64_t>& hosts) {
  if (hosts.empty()) return;
  for (size_t i = 0; i < used_; ++i)  // free slots are empty: key 0
    if (slots_[i].key && hosts.count(slots_[i].host)) slots_[i].key = 0;
}

void InlineCaches::reset() {
  for (size_t i = 0; i < used_; ++i) retire(slots_[i]);  // a free slot's counts are 0
  free_.clear();
  used_ = live_ = 0;
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
