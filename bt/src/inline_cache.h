// Per-site inline caches for indirect branches (Options::IndirectBranch::Inline): each
// indirect jmp/call/ret site owns a slot remembering the last target it went to, as a
// jump-cache entry {generation tag | EIP, host entry}, compared inline before the shared table
// is probed (cf. DynamoRIO's inlined indirect-branch targets, QEMU's lookup_and_goto_ptr).
// Exactness is the table's: a new generation (mode change, unlink, flush, eviction of mapped
// pages) makes every slot's tag stale, and a unit that dies alone (SMC invalidation, FIFO
// eviction) is forgotten by the slots that lead to it (forget_targets), as by its table entry.
// A slot lives as long as its site's code: an evicted unit's slots are released for the next
// sites (release), a flush frees them all (reset).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_set>
#include <vector>

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
  // An empty slot at an address that never changes: a released one if there is one, else a
  // new one (slots are never freed before the engine goes, so a late refill by the
  // dispatcher always lands in a slot).
  IcSlot* take();
  // The site's code is gone (its unit evicted): the slot may serve another site. Its counts
  // are kept in the totals.
  void release(IcSlot* s);
  // Empties the slots that lead to one of `hosts` (unit entries about to be invalid).
  void forget_targets(const std::unordered_set<uint64_t>& hosts);
  // A flush: every slot free again; their counts are kept in the totals.
  void reset();
  size_t slots() const { return live_; }              // held by sites in the cache
  size_t allocated() const { return slots_.size(); }  // ever made: the memory held
  uint64_t reclaimed() const { return reclaimed_; }   // released by evictions, over the run
  uint64_t hits() const;
  uint64_t misses() const;

 private:
  std::deque<IcSlot> slots_;
  std::vector<IcSlot*> free_;  // released slots, reused first
  size_t used_ = 0;            // slots_[0, used_) have been handed out since the last reset
  size_t live_ = 0;
  uint64_t reclaimed_ = 0;
  uint64_t retired_hits_ = 0, retired_misses_ = 0;
  void retire(IcSlot& s);
};

}  // namespace bt
