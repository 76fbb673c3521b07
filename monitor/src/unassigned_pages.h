// Unassigned guest-physical memory (neither RAM nor a device) for the instruction forms the
// MMIO redirection does not take (mmio_access.h: push/pop with a memory operand or a stack
// there, x87 loads and stores, string instructions, ah..bh operands, bt with a register
// offset, xlat, ...). Such an instruction runs alone, translated, with each unassigned page
// it touches mapped in the window as a fresh page of all ones, writable only once the guest
// allowed a write to it (so D is set only by a write, and a read-only mapping still gives the
// #PF); when it has completed the pages go again, and what it wrote with them. So it reads
// all ones and its writes vanish, as on a PC's empty bus. One difference from a PC, documented:
// within that one instruction a read after its own write to the same unassigned bytes sees
// the write (movs from and to the same unassigned page, fnsave's own image).
#pragma once

#include <cstdint>
#include <vector>

#include "shadowmmu/address_space.h"

namespace monitor {

class UnassignedPages {
 public:
  explicit UnassignedPages(shadowmmu::AddressSpace& as) : as_(as) {}
  ~UnassignedPages() { (void)clear(); }
  UnassignedPages(const UnassignedPages&) = delete;
  UnassignedPages& operator=(const UnassignedPages&) = delete;

  // The instruction about to run alone faulted at window page `linear` (a write if `write`):
  // all ones there. False when the host refuses the mapping.
  [[nodiscard]] bool map(uint32_t linear, bool write);
  // The instruction completed (or something else runs next): every page goes. False when the
  // host refuses to take one away (its mapping limit).
  [[nodiscard]] bool clear();
  bool empty() const { return pages_.empty(); }
  uint64_t steps() const { return steps_; }  // pages mapped so far, for --stats

  // More pages than any one instruction touches at once (movs: two operands, each across a
  // page boundary); rep instructions move on page by page, so the oldest can go.
  static constexpr size_t kMaxPages = 8;

 private:
  struct Page {
    uint32_t linear;
    bool writable;
  };
  shadowmmu::AddressSpace& as_;
  std::vector<Page> pages_;
  uint64_t steps_ = 0;
};

}  // namespace monitor
