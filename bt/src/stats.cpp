#include "bt/stats.h"

#include <fmt/format.h>

namespace bt {

const char* callout_name(CalloutKind k) {
  static const char* names[] = {
      "port in",      "port out",     "cpuid",         "rdtsc",     "popf",
      "cli/sti",      "hlt",          "control reg",   "debug reg", "descriptor table",
      "segment load", "far transfer", "iret",          "bcd",       "bound",
      "msr",          "cache/tlb",    "watched write", "fpu",       "selector query"};
  static_assert(std::size(names) == size_t(CalloutKind::Count));
  return names[size_t(k)];
}

std::string Stats::report() const {
  std::string s;
  auto pct = [](uint64_t a, uint64_t b) { return b ? 100.0 * double(a) / double(b) : 0.0; };
  s += fmt::format("translation units made      {} ({} ahead, as loop exits)\n", units,
                   loop_exit_units);
  s += fmt::format("guest instructions          {} ({:.1f} per unit)\n", guest_instructions,
                   units ? double(guest_instructions) / double(units) : 0.0);
  s += fmt::format("  translated IDENT          {} ({:.1f}%)\n", ident_instructions,
                   pct(ident_instructions, guest_instructions));
  s += fmt::format("mean translate time         {:.2f} us/unit\n",
                   units ? double(translate_ns) / double(units) / 1000.0 : 0.0);
  s += fmt::format("translation cache used      {} bytes ({} flushes, {} unlinks)\n", tc_bytes,
                   flushes, unlinks);
  s += fmt::format(
      "code                        {} guest bytes -> {} host bytes ({:.1f}x), {} cross-page "
      "units\n",
      guest_bytes, host_bytes,
      units && guest_bytes ? double(host_bytes) / double(guest_bytes) : 0.0, cross_page_units);
  s += fmt::format("units with direct jumps     {} ({:.1f}%), {} direct-jump sites\n",
                   direct_jump_units, pct(direct_jump_units, units), direct_jump_sites);
  if (jumps_folded || calls_folded)
    s += fmt::format("superblocks                 {} jmps, {} calls folded into units\n",
                     jumps_folded, calls_folded);
  if (evictions)
    s += fmt::format(
        "evictions                   {} units in {} blocks ({} promoted, {} from the "
        "persistent ring)\n",
        evictions, eviction_blocks, promotions, persistent_evictions);
  s += fmt::format("translations invalidated    {}\n", invalidated);
  s += fmt::format("chains undone               {} (by page {} times, non-global {} times)\n",
                   chains_undone, page_unlinks, nonglobal_unlinks);
  s += fmt::format("chains made                 {}\n", chains);
  s += fmt::format("indirect lookups            {} hits, {} misses ({:.1f}% hit)\n", lookup_hits,
                   lookup_misses, pct(lookup_hits, lookup_hits + lookup_misses));
  if (inline_sites)
    s += fmt::format(
        "inline caches               {} sites, {} hits, {} misses ({:.1f}% hit); {} slots, "
        "{} reclaimed\n",
        inline_sites, inline_hits, inline_misses, pct(inline_hits, inline_hits + inline_misses),
        inline_slots, inline_slots_reclaimed);
  if (entry_counters)
    s += fmt::format("entry counters              {} ({} reused from evicted units)\n",
                     entry_counters, entry_counters_reused);
  s += fmt::format("entries into translated code {}\n", entries);
  s += fmt::format("exits: pending event {}, static {}, host faults {}, single steps {}\n",
                   exits_pending, static_exits, host_faults, single_steps);
  uint64_t total = 0;
  for (uint64_t c : callouts) total += c;
  s += fmt::format("callouts                    {}\n", total);
  for (size_t i = 0; i < callouts.size(); ++i)
    if (callouts[i]) s += fmt::format("  {:<26}{}\n", callout_name(CalloutKind(i)), callouts[i]);
  return s;
}

}  // namespace bt

namespace bt {

std::string EntryCounts::report() const {
  if (!enabled) return "";
  std::string s =
      fmt::format("executed by translated code  {} guest instructions in {} unit entries\n",
                  guest_instructions, unit_entries);
  for (const HotUnit& h : hottest)
    s += fmt::format("  hot unit {:08x}          {} entries x {} instructions\n", h.eip, h.entries,
                     h.ninsns);
  return s;
}

}  // namespace bt
