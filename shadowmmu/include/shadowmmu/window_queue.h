// The window changes not yet applied to the confined direct-execution process (window_sink.h),
// in order, compacted so the queue stays about as long as the number of pages touched since it
// was last taken: a later change of a single page absorbs the earlier ones of that page, and a
// map or unmap that covers everything queued replaces it all (a whole-window drop).
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "shadowmmu/window_sink.h"

namespace shadowmmu {

class WindowQueue final : public WindowSink {
 public:
  // Past this many queued changes the queue keeps recording but asks for a resync: the owner
  // then drops the whole window (Shadow::reset(), or unmap_window() + map_identity()), which
  // replaces everything queued by one change.
  static constexpr size_t kResyncAt = 1u << 16;

  void window_changed(const WindowChange& c) override;
  // The changes to apply, in order; the queue is empty afterwards.
  std::vector<WindowChange> take();
  size_t size() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }
  bool needs_resync() const { return ops_.size() >= kResyncAt; }

 private:
  bool absorb(const WindowChange& c);
  void clear();

  std::vector<WindowChange> ops_;
  // Single-page changes since the last multi-page one: page -> its latest change in ops_.
  std::unordered_map<uint64_t, size_t> last_;
  uint64_t lo_ = ~0ull, hi_ = 0;  // the union of the queued ranges lies in [lo_, hi_)
};

}  // namespace shadowmmu
