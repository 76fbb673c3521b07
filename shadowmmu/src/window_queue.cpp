#include "shadowmmu/window_queue.h"

#include <algorithm>

namespace shadowmmu {

namespace {
constexpr uint64_t kPage = 4096;
bool replaces(WindowChange::Kind k) {
  return k != WindowChange::Kind::Protect;
}
}  // namespace

void WindowQueue::clear() {
  ops_.clear();
  last_.clear();
  lo_ = ~0ull;
  hi_ = 0;
}

// Merges a single-page change into the latest queued change of that page, when nothing queued
// after it touches the page (only single-page changes of other pages follow it, and those
// commute with it). Map or unmap replace what was there; a new protection rewrites a queued
// map's or protection's. A protection after an unmap stays separate (the stub then fails it,
// as it should: nothing is mapped there).
bool WindowQueue::absorb(const WindowChange& c) {
  auto it = last_.find(c.addr);
  if (it == last_.end()) return false;
  WindowChange& old = ops_[it->second];
  if (replaces(c.kind)) {
    old = c;
    return true;
  }
  if (old.kind == WindowChange::Kind::Unmap) return false;
  old.prot = c.prot;
  return true;
}

void WindowQueue::window_changed(const WindowChange& c) {
  if (c.len == 0) return;
  if (replaces(c.kind) && c.addr <= lo_ && c.end() >= hi_) clear();  // covers everything queued
  if (c.len == kPage && absorb(c)) return;
  ops_.push_back(c);
  lo_ = std::min(lo_, c.addr);
  hi_ = std::max(hi_, c.end());
  if (c.len == kPage) {
    last_[c.addr] = ops_.size() - 1;
  } else {
    last_.clear();  // a barrier: later single-page changes may not move before it
  }
}

std::vector<WindowChange> WindowQueue::take() {
  std::vector<WindowChange> out = std::move(ops_);
  clear();
  return out;
}

}  // namespace shadowmmu
