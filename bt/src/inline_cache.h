// Per-site inline caches for indirect branches (Options::IndirectBranch::Inline): each
// indirect jmp/call/ret site owns a slot remembering the last target it went to, as a
// jump-cache entry {generation tag | EIP, host entry}, compared inline before the shared table
// is probed (cf. DynamoRIO's inlined indirect-branch targets, QEMU's lookup_and_goto_ptr).
// Exactness is the table's: a new generation (mode change, unlink, flush, eviction of mapped
// pages) makes every slot's tag stale, and a unit that dies alone (SMC invalidation, FIFO
// eviction) is forgotten by the slots that lead to it (forget_targets), as by its table entry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_set>

namespace bt {

// Laid out for translated code: site code reads key/host and counts hits; the runtime's
// ic_miss stub counts misses and refills key/host from the table.
struct IcSlot {
  uint64_t key = 0;  // 0: empty (no generation tag is 0)
  uint64_t host = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;
};
inline constexpr int32_t kIcKey = 0, kIcHost = 8, kIcHits = 16, kIcMisses = 24;

class InlineCaches {
 public:
  // A fresh slot at an address that never changes (slots are reused after a flush, never freed
  // before the engine goes: a refill the dispatcher does late always lands in a slot).
  IcSlot* take();
  // Empties the slots that lead to one of `hosts` (unit entries about to be invalid).
  void forget_targets(const std::unordered_set<uint64_t>& hosts);
  // A flush: every slot free again; their counts are kept in the totals.
  void reset();
  size_t slots() const { return used_; }
  uint64_t hits() const;
  uint64_t misses() const;

 private:
  std::deque<IcSlot> slots_;
  size_t used_ = 0;
  uint64_t retired_hits_ = 0, retired_misses_ = 0;
};

}  // namespace bt
