// The guest pages one translation unit's code comes from: its first page, and at most one more
// (reached by an instruction that crosses a page end, or with Options::superblocks by a jump
// folded into the unit). Invalidation stays exact because the engine indexes a unit under the
// frames of both pages and re-checks the second page's mapping before it reuses the unit.
#pragma once

#include <cstdint>
#include <optional>

namespace bt {

class UnitSpan {
 public:
  explicit UnitSpan(uint32_t eip) : page1_(eip & ~0xfffu) {}
  // Whether an instruction may start at `eip`: on the first page, or on the second one once a
  // folded jump has led there (fall-through past the first page's end does not start units there).
  bool may_start(uint32_t eip) const {
    const uint32_t p = eip & ~0xfffu;
    return p == page1_ || (entered2_ && page2_ == p);
  }
  // Whether a jump to `target` may be folded: its page is one the unit has or may still take.
  bool may_fold_to(uint32_t target) const {
    const uint32_t p = target & ~0xfffu;
    return p == page1_ || !page2_ || *page2_ == p;
  }
  // Takes the bytes [first, first + len) of an instruction into the unit; false (and nothing
  // taken) if they would need a third page.
  bool admit(uint32_t first, uint32_t len) {
    const uint32_t last = first + (len ? len - 1 : 0);
    for (uint32_t p : {first & ~0xfffu, last & ~0xfffu}) {
      if (p == page1_ || page2_ == p) continue;
      if (page2_) return false;
    }
    for (uint32_t p : {first & ~0xfffu, last & ~0xfffu})
      if (p != page1_) page2_ = p;
    return true;
  }
  // A folded jump led to `target` (may_fold_to said yes): instructions may start on its page.
  void folded_to(uint32_t target) {
    const uint32_t p = target & ~0xfffu;
    if (p == page1_) return;
    page2_ = p;
    entered2_ = true;
  }
  std::optional<uint32_t> page2() const { return page2_; }

 private:
  uint32_t page1_;
  std::optional<uint32_t> page2_;
  bool entered2_ = false;
};

}  // namespace bt
