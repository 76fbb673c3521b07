// Per-unit entry counters (Options::count_entries): the cheapest dynamic profile a translation
// cache can keep — one memory increment per unit entry, chained entries included — from which
// the hottest code and the guest instructions executed by translated code follow.
#include <algorithm>

#include "engine_core.h"

namespace bt {

using namespace asmjit;
using namespace asmjit::x86;

void emit_entry_count(Assembler& a, uint64_t* counter) {
  // Guest flags live in host RFLAGS: lea, not inc/add. r9/r10 hold nothing at a unit entry.
  a.mov(r9, imm(uint64_t(reinterpret_cast<uintptr_t>(counter))));
  a.mov(r10, qword_ptr(r9));
  a.lea(r10, ptr(r10, 1));
  a.mov(qword_ptr(r9), r10);
}

uint64_t* EngineCore::new_entry_counter() {
  if (!free_counters_.empty()) {  // an evicted unit's: its code, the only user, is gone
    uint64_t* c = free_counters_.back();
    free_counters_.pop_back();
    *c = 0;
    stats.entry_counters_reused++;
    return c;
  }
  stats.entry_counters++;
  return &entry_counters_.emplace_back(0);  // a deque never moves its elements
}

void EngineCore::free_entry_counter(const Unit& u) {
  retire_entry_count(u);
  if (u.entries) free_counters_.push_back(u.entries);
}

void EngineCore::retire_entry_count(const Unit& u) {
  if (!u.entries) return;
  Retired& r = retired_[u.eip];
  r.entries += *u.entries;
  r.ninsns = u.ninsns;
  retired_insns_ += *u.entries * u.ninsns;
  retired_entries_ += *u.entries;
}

void EngineCore::retire_entry_counts() {
  cache.for_each_unit([&](const Unit* u) { retire_entry_count(*u); });
  entry_counters_.clear();
  free_counters_.clear();
  stats.entry_counters = 0;
}

EntryCounts EngineCore::entry_counts(size_t top) const {
  EntryCounts ec;
  ec.enabled = opt.count_entries;
  ec.unit_entries = retired_entries_;
  ec.guest_instructions = retired_insns_;
  std::unordered_map<uint32_t, Retired> by_eip = retired_;
  cache.for_each_unit([&](const Unit* u) {
    if (!u->entries) return;
    Retired& r = by_eip[u->eip];
    r.entries += *u->entries;
    r.ninsns = u->ninsns;
    ec.guest_instructions += *u->entries * u->ninsns;
    ec.unit_entries += *u->entries;
  });
  for (const auto& [eip, r] : by_eip) ec.hottest.push_back({eip, r.ninsns, r.entries});
  const size_t n = std::min(top, ec.hottest.size());
  std::partial_sort(ec.hottest.begin(), ec.hottest.begin() + ptrdiff_t(n), ec.hottest.end(),
                    [](const HotUnit& a, const HotUnit& b) {
                      return a.entries != b.entries ? a.entries > b.entries : a.eip < b.eip;
                    });
  ec.hottest.resize(n);
  return ec;
}

}  // namespace bt
