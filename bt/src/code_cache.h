// The translation cache: one RWX region above 4 GiB that only bt86 writes, holding the runtime
// stubs followed by translation units, plus the maps from guest EIPs to units and from host
// addresses back to guest instructions (for precise faults).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

namespace bt {

inline constexpr uint32_t kNoLink = ~0u;  // the end of a LinkTable list

struct Unit {
  uint32_t eip;          // linear EIP of the first instruction
  uint32_t guest_bytes;  // guest code bytes covered
  uint8_t* host;         // entry point in the cache
  uint32_t host_size;
  uint32_t ninsns;
  // The frame of its second page (an instruction crossing a page end, or a folded jump),
  // if it has one.
  static constexpr uint32_t kNoFrame = ~0u;
  uint32_t frame2 = kNoFrame;
  uint32_t page2 = 0;                 // the linear page of frame2 (valid with it)
  uint32_t frame = 0;  // the frame of its first byte (CodeSource::phys_page)
  // Forgotten for lookups (its code was written): it only waits for its space to be reclaimed.
  bool dead = false;
  std::optional<uint32_t> loop_exit;  // Ctx::loop_exit
  uint64_t key = 0;                   // its key in the lookup map (it may have been replaced there)
  uint64_t* entries = nullptr;        // its entry counter (Options::count_entries), else nullptr
  // Its last instruction loads SS: under EFLAGS.TF, no #DB until the one after it.
  bool ends_with_ss_load = false;
  // The heads of its lists in the LinkTable: chains into it, and out of it.
  uint32_t links_in = kNoLink, links_out = kNoLink;
  // Start offsets (in host code) and EIPs of each guest instruction, for fault mapping.
  std::vector<std::pair<uint32_t, uint32_t>> insn_map;
};

class CodeCache {
 public:
  explicit CodeCache(size_t bytes);
  ~CodeCache();
  CodeCache(const CodeCache&) = delete;
  CodeCache& operator=(const CodeCache&) = delete;

  uint8_t* base() const { return base_; }
  size_t size() const { return size_; }
  // The runtime stubs live at the start and survive flushes.
  void set_runtime_end(size_t offset) { runtime_end_ = used_ = offset; }
  uint8_t* cursor() const { return base_ + used_; }
  size_t available() const { return size_ - used_; }
  // Free bytes from the cursor to the oldest unit ahead of it (FIFO eviction wraps the cursor
  // around), or to the end. Without wrapping, available().
  size_t room() const {
    const uint8_t* limit = base_ + size_;
    if (!by_age_.empty() && by_age_.front()->host >= cursor()) limit = by_age_.front()->host;
    return size_t(limit - cursor());
  }
  // FIFO eviction: whether a unit lies ahead of the cursor; moves the cursor back to the start.
  bool unit_ahead() const { return !by_age_.empty() && by_age_.front()->host >= cursor(); }
  void wrap() { used_ = runtime_end_; }
  // Takes the oldest unit out of every map; the caller undoes what points into it.
  std::unique_ptr<Unit> evict_oldest();
  size_t used() const { return live_bytes_; }  // host code bytes of the units held
  void commit(size_t bytes) { used_ = (used_ + bytes + 15) & ~size_t(15); }
  bool contains(const void* p) const {
    auto a = static_cast<const uint8_t*>(p);
    return a >= base_ && a < base_ + size_;
  }

  Unit* find(uint64_t key) const {
    auto it = units_.find(key);
    return it == units_.end() ? nullptr : it->second;
  }
  Unit* insert(uint64_t key, Unit u);
  // The unit whose host code contains `p`, or nullptr.
  Unit* unit_at(const void* p) const;
  void flush();
  size_t units() const { return by_age_.size(); }
  // Every unit whose host code is in the cache, forgotten ones included, oldest first.
  const std::deque<Unit*>& all_units() const { return by_age_; }
  // Forgets, for lookups, every live translation made from `frame` (its first byte or its
  // last instruction's: Unit::frame, frame2) and returns them, marked dead. Their host code
  // stays until eviction or a flush reclaims it; the caller undoes what points into them.
  std::vector<Unit*> forget_frame(uint32_t frame);

 private:
  uint8_t* base_ = nullptr;
  size_t size_ = 0;
  size_t runtime_end_ = 0;
  size_t used_ = 0;
  size_t live_bytes_ = 0;
  std::unordered_map<uint64_t, Unit*> units_;
  std::deque<Unit*> by_age_;                    // in allocation order (the FIFO)
  std::map<const uint8_t*, Unit*> by_address_;  // by host address (a wrapped FIFO is not sorted)
  // Live units by code frame, oldest first (FIFO eviction takes them from the front).
  std::unordered_map<uint32_t, std::deque<Unit*>> by_frame_;
  void unindex(Unit* u, uint32_t frame);
};

}  // namespace bt
