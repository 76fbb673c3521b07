#include "shadowmmu/window_model.h"

#include <algorithm>

namespace shadowmmu {

namespace {
constexpr uint64_t kPage = 4096;
using Kind = WindowChange::Kind;
}  // namespace

bool WindowModel::redundant(const WindowChange& c) const {
  if (c.len == 0) return true;
  if (overlaps_rough(c)) return false;
  auto first = pages_.lower_bound(c.addr);
  switch (c.kind) {
    case Kind::Unmap:
      return first == pages_.end() || first->first >= c.end();
    case Kind::Map:
      return c.len == kPage && first != pages_.end() && first->first == c.addr &&
             first->second == Held{c.ram_offset, c.prot};
    case Kind::Protect:
      // Every page of the range held, each with that protection already (a protection of a
      // page not held is sent: the process refuses it, as mprotect does).
      for (uint64_t a = c.addr; a < c.end(); a += kPage, ++first)
        if (first == pages_.end() || first->first != a || first->second.prot != c.prot)
          return false;
      return true;
  }
  return false;
}

void WindowModel::doubt(uint64_t addr) {
  addr &= ~(kPage - 1);
  // No real page has this offset or protection: nothing is redundant there, the diff sends it.
  if (addr < rough_lo_ || addr >= rough_hi_) pages_[addr] = Held{~0ull, -1};
}

void WindowModel::erase(uint64_t lo, uint64_t hi) {
  pages_.erase(pages_.lower_bound(lo), pages_.lower_bound(hi));
}

void WindowModel::apply(const WindowChange& c) {
  if (c.len == 0) return;
  switch (c.kind) {
    case Kind::Map:
      if (c.len == kPage && !overlaps_rough(c)) {
        pages_[c.addr] = Held{c.ram_offset, c.prot};
        return;
      }
      // Known only roughly from now on: the union of both ranges.
      rough_lo_ = exact() ? c.addr : std::min(rough_lo_, c.addr);
      rough_hi_ = std::max(rough_hi_, c.end());
      erase(rough_lo_, rough_hi_);
      return;
    case Kind::Unmap:
      erase(c.addr, c.end());
      if (c.addr <= rough_lo_ && c.end() >= rough_hi_) rough_lo_ = rough_hi_ = 0;
      return;
    case Kind::Protect:
      for (auto it = pages_.lower_bound(c.addr); it != pages_.end() && it->first < c.end(); ++it)
        it->second.prot = c.prot;
      return;
  }
}

std::vector<WindowChange> WindowModel::diff(const std::vector<HeldPage>& want) const {
  std::vector<WindowChange> out;
  if (!exact()) out.push_back({Kind::Unmap, 0, rough_lo_, rough_hi_ - rough_lo_});
  auto unmap = [&](uint64_t addr) { out.push_back({Kind::Unmap, 0, addr, kPage}); };
  auto map = [&](const HeldPage& w) {
    // Only pages ring 3 may use reach a process (ring3_window.h).
    out.push_back({Kind::Map, w.prot, w.addr, kPage, w.ram_offset, Ring3::Allowed});
  };
  auto have = pages_.begin();
  for (const HeldPage& w : want) {
    for (; have != pages_.end() && have->first < w.addr; ++have) unmap(have->first);
    if (have == pages_.end() || have->first != w.addr) {
      map(w);
      continue;
    }
    if (have->second.ram_offset != w.ram_offset)
      map(w);
    else if (have->second.prot != w.prot)
      out.push_back({Kind::Protect, w.prot, w.addr, kPage, 0, Ring3::Allowed});
    ++have;
  }
  for (; have != pages_.end(); ++have) unmap(have->first);
  return out;
}

}  // namespace shadowmmu
