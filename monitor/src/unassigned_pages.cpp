#include "unassigned_pages.h"

#include <algorithm>

namespace monitor {

bool UnassignedPages::map(uint32_t linear, bool write) {
  linear &= ~0xfffu;
  auto it =
      std::find_if(pages_.begin(), pages_.end(), [&](const Page& p) { return p.linear == linear; });
  if (it != pages_.end()) {
    // Mapped read-only for a read; now the instruction writes it (the guest allowed that).
    // A fresh page (it is still all ones: nothing could write it); no mprotect, which the
    // window sink would hear of.
    if (!write || it->writable) return false;  // faulting again the same way: never expected
    if (!as_.map_all_ones(linear, true)) return false;
    it->writable = true;
    return true;
  }
  if (pages_.size() == kMaxPages) {
    if (!as_.unmap_page(pages_.front().linear)) return false;
    pages_.erase(pages_.begin());
  }
  if (!as_.map_all_ones(linear, write)) return false;
  pages_.push_back({linear, write});
  ++steps_;
  return true;
}

bool UnassignedPages::clear() {
  while (!pages_.empty()) {
    if (!as_.unmap_page(pages_.back().linear)) return false;
    pages_.pop_back();
  }
  return true;
}

}  // namespace monitor
