// Counters the engine keeps for --stats: the numbers a binary-translation researcher asks for.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace bt {

enum class CalloutKind : uint8_t {
  PortIn,
  PortOut,
  Cpuid,
  Rdtsc,
  Popf,
  CliSti,
  Halt,
  ControlReg,
  DebugReg,
  DescriptorTable,
  SegmentLoad,
  FarTransfer,
  Iret,
  Bcd,
  Bound,
  Msr,
  CacheTlb,
  WatchedWrite,
  Fpu,            // the FPU gate (state load, #NM/#UD) and fnsave/fxsave/fxrstor/ldmxcsr
  SelectorQuery,  // lar/lsl/verr/verw/arpl
  Count
};
const char* callout_name(CalloutKind k);

struct Stats {
  uint64_t units = 0;               // translation units made
  uint64_t loop_exit_units = 0;     // ... of which ahead of use, as a loop's exit
  uint64_t guest_instructions = 0;  // guest instructions translated
  uint64_t ident_instructions = 0;  // ... of which copied as IDENT
  uint64_t translate_ns = 0;        // total time spent translating
  uint64_t guest_bytes = 0;         // guest code bytes translated (all units made)
  uint64_t host_bytes = 0;          // host code bytes emitted (all units made)
  uint64_t cross_page_units = 0;    // units with code on a second page (crossing, or folded)
  uint64_t direct_jump_units = 0;   // units with at least one chainable (direct) exit
  uint64_t direct_jump_sites = 0;   // chainable exits emitted
  uint64_t jumps_folded = 0;        // direct jmps a unit went on through (Options::superblocks)
  uint64_t calls_folded = 0;        // ... and direct calls
  uint64_t tc_bytes = 0;            // translation-cache bytes in use
  uint64_t flushes = 0;
  uint64_t evictions = 0;             // units evicted (Options::Evict::Fifo)
  uint64_t eviction_blocks = 0;       // times room was made by evicting
  uint64_t promotions = 0;            // units made again in the persistent ring (Generational)
  uint64_t persistent_evictions = 0;  // ... of the evictions, from the persistent ring
  uint64_t persistent_bytes = 0;      // ... of tc_bytes, in the persistent ring
  uint64_t make_room_ns = 0;  // time making room (flushes, evictions; not promotions' translation)
  uint64_t unlinks = 0;       // chains undone because guest mappings changed
  uint64_t invalidated = 0;   // translations discarded by flushes
  uint64_t page_unlinks = 0;  // invlpg: chains into one page undone
  uint64_t nonglobal_unlinks = 0;  // CR3 writes: chains into non-global pages undone
  uint64_t chains_undone = 0;
  uint64_t chains = 0;         // direct branches patched
  uint64_t lookup_hits = 0;    // indirect branches found in the jump cache
  uint64_t lookup_misses = 0;  // ... that went to the dispatcher
  // Options::IndirectBranch::Inline: branches that found their target in their site's inline
  // cache, and those that went on to the table (its hits and misses are counted above); the
  // sites in the cache now, the slots ever made (the memory they hold), and the slots that
  // evictions gave back for new sites.
  uint64_t inline_hits = 0, inline_misses = 0, inline_sites = 0;
  uint64_t inline_slots = 0, inline_slots_reclaimed = 0;
  // Per-unit entry counters (Options::count_entries, generational eviction): those held now
  // (8 bytes each, back to 0 at a flush), and the times an evicted unit's served a new unit.
  uint64_t entry_counters = 0, entry_counters_reused = 0;
  uint64_t entries = 0;  // entries from the monitor into translated code
  uint64_t exits_pending = 0;
  uint64_t static_exits = 0;  // int n, #UD, unsupported
  uint64_t host_faults = 0;   // signals taken in translated code
  uint64_t single_steps = 0;  // #DB after an instruction run under EFLAGS.TF
  std::array<uint64_t, size_t(CalloutKind::Count)> callouts{};

  std::string report() const;
};

// Per-unit entry counts (Options::count_entries). A unit left early (a fault, an event
// callout) still counts all its instructions: guest_instructions is an upper bound by those.
struct HotUnit {
  uint32_t eip = 0;
  uint32_t ninsns = 0;
  uint64_t entries = 0;
};
struct EntryCounts {
  bool enabled = false;
  uint64_t unit_entries = 0;
  uint64_t guest_instructions = 0;
  std::vector<HotUnit> hottest;  // by entries, highest first; units made again share an eip
  std::string report() const;    // for --stats (empty when not enabled)
};

}  // namespace bt
