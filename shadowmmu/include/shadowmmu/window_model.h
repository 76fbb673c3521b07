// What one confined direct-execution process holds in its window, as the monitor knows it from
// the changes that process applied (issue 12, item 3: one process per recently used guest
// address space). With it the monitor leaves out changes that would alter nothing there, and a
// process taken up again — its address space is current again, or it is reused for another —
// gets only the difference between what it holds and what it should hold.
//
// Pages are recorded one by one. A map of more than one page (the identity window while guest
// paging is off, up to 3 GiB) is not: the model then knows only the range where the process may
// hold something, until an unmap covers that range.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "shadowmmu/window_sink.h"

namespace shadowmmu {

// One window page a process should hold: guest RAM at `ram_offset`, with `prot`.
struct HeldPage {
  uint32_t addr;
  uint32_t ram_offset;
  int prot;
  bool operator==(const HeldPage&) const = default;
};

class WindowModel {
 public:
  // Whether applying `c` in the process would change nothing there.
  bool redundant(const WindowChange& c) const;
  // The process has applied `c`.
  void apply(const WindowChange& c);
  // What the process holds at window page `addr` is not known (it faulted there although the
  // model says it holds what it needs: code that escaped there may have unmapped it): the
  // next change of that page is sent, whatever it is.
  void doubt(uint64_t addr);
  // Nothing the process holds in [0, 4 GiB) is known any more (a batch of changes failed part
  // way): only an unmap of the whole window makes the model exact again.
  void doubt_all() {
    pages_.clear();
    rough_lo_ = 0;
    rough_hi_ = 4ull << 30;
  }
  // The changes, in order, after which the process holds exactly `want` (sorted by address,
  // no page twice): unmaps, maps and protections of single pages, after one unmap of the
  // range the model knows only roughly (if any).
  std::vector<WindowChange> diff(const std::vector<HeldPage>& want) const;
  // Pages known one by one (nothing is known page by page inside the rough range).
  size_t pages() const { return pages_.size(); }
  bool exact() const { return rough_lo_ == rough_hi_; }

 private:
  struct Held {
    uint64_t ram_offset;
    int prot;
    bool operator==(const Held&) const = default;
  };
  bool overlaps_rough(const WindowChange& c) const {
    return c.addr < rough_hi_ && c.end() > rough_lo_;
  }
  void erase(uint64_t lo, uint64_t hi);

  std::map<uint64_t, Held> pages_;  // by window address; none inside the rough range
  uint64_t rough_lo_ = 0, rough_hi_ = 0;
};

}  // namespace shadowmmu
