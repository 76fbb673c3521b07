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

struct IcSlot;

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
  uint32_t page2 = 0;  // the linear page of frame2 (valid with it)
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
  // The inline-cache slots of its indirect-branch sites (Options::IndirectBranch::Inline):
  // released when its code is evicted.
  std::vector<IcSlot*> ic_slots;
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
  void set_runtime_end(size_t offset) {
    rings_[0] = {offset, size_, offset, {}, 0};
    rings_[1] = {size_, size_, size_, {}, 0};
  }
  // The units are allocated in rings, each a FIFO: one (flush, FIFO policies), or a nursery
  // of `nursery` bytes after the runtime and a persistent ring in the rest (generational).
  enum RingId { kNursery = 0, kPersistent = 1 };
  void split(size_t nursery) {
    const size_t mid = (rings_[0].begin + nursery) & ~size_t(15);
    rings_[0].end = mid;
    rings_[1] = {mid, size_, mid, {}, 0};
  }
  // Where the next units go (the nursery unless selected otherwise).
  void select(RingId r) { cur_ = r; }
  RingId selected() const { return cur_; }
  size_t ring_bytes(RingId r) const { return rings_[r].end - rings_[r].begin; }
  size_t ring_units(RingId r) const { return rings_[r].by_age.size(); }
  size_t ring_used(RingId r) const { return rings_[r].live; }  // host code bytes held
  uint8_t* cursor() const { return base_ + ring().used; }
  size_t available() const { return ring().end - ring().used; }
  // Free bytes from the cursor to the oldest unit ahead of it (FIFO eviction wraps the cursor
  // around), or to the ring's end. Without wrapping, available().
  size_t room() const {
    const uint8_t* limit = base_ + ring().end;
    if (unit_ahead()) limit = ring().by_age.front()->host;
    return size_t(limit - cursor());
  }
  // FIFO eviction: whether a unit lies ahead of the cursor; moves the cursor back to the start.
  bool unit_ahead() const {
    return !ring().by_age.empty() && ring().by_age.front()->host >= cursor();
  }
  void wrap() { ring().used = ring().begin; }
  // Takes the ring's oldest unit out of every map; the caller undoes what points into it.
  std::unique_ptr<Unit> evict_oldest();
  size_t used() const { return live_bytes_; }  // host code bytes of the units held
  void commit(size_t bytes) { ring().used = (ring().used + bytes + 15) & ~size_t(15); }
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
  size_t units() const { return rings_[0].by_age.size() + rings_[1].by_age.size(); }
  // Visits every unit whose host code is in the cache, forgotten ones included, oldest first
  // in each ring.
  template <class F>
  void for_each_unit(F f) const {
    for (const Ring& r : rings_)
      for (Unit* u : r.by_age) f(u);
  }
  // Forgets, for lookups, every live translation made from `frame` (its first byte or its
  // last instruction's: Unit::frame, frame2) and returns them, marked dead. Their host code
  // stays until eviction or a flush reclaims it; the caller undoes what points into them.
  std::vector<Unit*> forget_frame(uint32_t frame);

 private:
  uint8_t* base_ = nullptr;
  size_t size_ = 0;
  struct Ring {
    size_t begin, end, used;   // offsets: its bytes, and the cursor
    std::deque<Unit*> by_age;  // its units in allocation order (the FIFO)
    size_t live = 0;           // host code bytes of its units
  };
  Ring rings_[2] = {};
  RingId cur_ = kNursery;
  Ring& ring() { return rings_[cur_]; }
  const Ring& ring() const { return rings_[cur_]; }
  size_t live_bytes_ = 0;
  std::unordered_map<uint64_t, Unit*> units_;
  std::map<const uint8_t*, Unit*> by_address_;  // by host address (a wrapped FIFO is not sorted)
  // Live units by code frame, oldest first (FIFO eviction takes them from the front).
  std::unordered_map<uint32_t, std::deque<Unit*>> by_frame_;
  void unindex(Unit* u, uint32_t frame);
};

}  // namespace bt
