// --stats=json: the statistics as one JSON document (and --stats-interval snapshots as JSON
// lines), every counter --stats prints plus the translation-cache research set (issue 13).
// The schema is in docs/STATS.md; keep the two together.
#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "devices/clock.h"
#include "devices_wiring.h"
#include "event_service.h"
#include "machine.h"
#include "unit_tools.h"
#include "virtual_timer.h"

namespace monitor {

using nlohmann::json;

namespace {

double ratio(uint64_t a, uint64_t b) {
  return b ? double(a) / double(b) : 0.0;
}

const char* evict_name(bt::Options::Evict e) {
  switch (e) {
    case bt::Options::Evict::Fifo:
      return "fifo";
    case bt::Options::Evict::Generational:
      return "generational";
    default:
      return "flush";
  }
}

json translator_json(const bt::Stats& s, const bt::EntryCounts& ec) {
  json callouts = json::object();
  uint64_t total = 0;
  for (size_t i = 0; i < s.callouts.size(); ++i) {
    callouts[bt::callout_name(bt::CalloutKind(i))] = s.callouts[i];
    total += s.callouts[i];
  }
  json hottest = json::array();
  for (const auto& h : ec.hottest)
    hottest.push_back({{"eip", h.eip}, {"instructions", h.ninsns}, {"entries", h.entries}});
  return {
      {"units", s.units},
      {"loop_exit_units", s.loop_exit_units},
      {"guest_instructions", s.guest_instructions},
      {"ident_instructions", s.ident_instructions},
      {"translate_ns", s.translate_ns},
      {"code_bytes", s.tc_bytes},
      {"guest_bytes", s.guest_bytes},
      {"host_bytes", s.host_bytes},
      {"mean_guest_bytes_per_unit", ratio(s.guest_bytes, s.units)},
      {"mean_host_bytes_per_unit", ratio(s.host_bytes, s.units)},
      {"expansion_ratio", ratio(s.host_bytes, s.guest_bytes)},
      {"cross_page_units", s.cross_page_units},
      {"direct_jump_units", s.direct_jump_units},
      {"direct_jump_share", ratio(s.direct_jump_units, s.units)},
      {"direct_jump_sites", s.direct_jump_sites},
      {"jumps_folded", s.jumps_folded},
      {"calls_folded", s.calls_folded},
      {"policy", "flush"},
      {"flushes", s.flushes},
      {"evictions", s.evictions},
      {"eviction_blocks", s.eviction_blocks},
      {"promotions", s.promotions},
      {"persistent_evictions", s.persistent_evictions},
      {"persistent_bytes", s.persistent_bytes},
      {"make_room_ns", s.make_room_ns},
      {"invalidations", s.invalidated},
      {"unlinks", s.unlinks},
      {"chains_undone", s.chains_undone},
      {"page_unlinks", s.page_unlinks},
      {"nonglobal_unlinks", s.nonglobal_unlinks},
      {"chains", s.chains},
      {"lookup_hits", s.lookup_hits},
      {"lookup_misses", s.lookup_misses},
      {"inline_hits", s.inline_hits},
      {"inline_misses", s.inline_misses},
      {"inline_sites", s.inline_sites},
      {"inline_slots", s.inline_slots},
      {"inline_slots_reclaimed", s.inline_slots_reclaimed},
      {"entry_counters", s.entry_counters},
      {"entry_counters_reused", s.entry_counters_reused},
      {"entries", s.entries},
      {"exits",
       {{"pending_event", s.exits_pending},
        {"static", s.static_exits},
        {"host_fault", s.host_faults}}},
      {"callouts_total", total},
      {"callouts", callouts},
      {"entry_counts", ec.enabled ? json{{"unit_entries", ec.unit_entries},
                                         {"guest_instructions_executed", ec.guest_instructions},
                                         {"hottest", hottest}}
                                  : json(nullptr)},
  };
}

json ports_json(const devices::IoBus& bus) {
  json ranges = json::array();
  for (const auto& r : bus.range_stats())
    ranges.push_back({{"device", r.name},
                      {"first", r.first},
                      {"count", r.count},
                      {"ins", r.ins},
                      {"outs", r.outs}});
  const auto& s = bus.stats();
  return {{"ins", s.ins},
          {"outs", s.outs},
          {"unclaimed_ins", s.unclaimed_ins},
          {"unclaimed_outs", s.unclaimed_outs},
          {"devices", ranges}};
}

json interrupts_json(const InterruptStats& s, uint64_t timer_signals) {
  json irqs = json::object(), vectors = json::object();
  for (size_t i = 0; i < s.by_irq.size(); ++i)
    if (s.by_irq[i]) irqs[std::to_string(i)] = s.by_irq[i];
  for (size_t i = 0; i < s.by_vector.size(); ++i)
    if (s.by_vector[i]) vectors[fmt::format("{:#04x}", i)] = s.by_vector[i];
  return {{"delivered", s.delivered},
          {"by_irq", irqs},
          {"by_vector", vectors},
          {"shadow_deferrals", s.shadow_deferrals},
          {"timer_signals", timer_signals},
          {"halts", s.halts},
          {"host_sleeps", s.sleeps},
          {"slept_ns", s.slept_ns},
          {"timer_delayed", s.timer_delayed},
          {"timer_merged", s.timer_merged}};
}

json shadow_json(const shadowmmu::Shadow::Stats& s) {
  return {{"hidden_faults", s.hidden_faults},
          {"true_faults", s.true_faults},
          {"pages_mapped", s.pages_mapped},
          {"prefetched", s.prefetched},
          {"pages_dropped", s.pages_dropped},
          {"drops_all", s.drops_all},
          {"global_flushes", s.global_flushes},
          {"cr3_switches", s.cr3_switches},
          {"globals_kept", s.globals_kept},
          {"user_entries", s.user_entries},
          {"supervisor_parked", s.supervisor_parked},
          {"park_calls", s.park_calls},
          {"supervisor_unparked", s.supervisor_unparked},
          {"unpark_calls", s.unpark_calls},
          {"supervisor_drops", s.supervisor_drops},
          {"parks_skipped", s.parks_skipped},
          {"restored", s.restored},
          {"invlpg", s.invlpg},
          {"tables_traced", s.tables_traced},
          {"tables_released", s.tables_released},
          {"table_writes", s.table_writes},
          {"entries_changed", s.entries_changed},
          {"table_drops", s.table_drops},
          {"table_updates", s.table_updates}};
}

}  // namespace

std::string Machine::stats_json(const char* kind) const {
  json doc;
  doc["bt86_stats"] = 1;  // schema version (docs/STATS.md)
  doc["kind"] = kind;
  doc["wall_ns"] = wall_ns_ ? wall_ns_ : now_ns_since_start();
  doc["translator"] =
      engine_ ? translator_json(engine_->stats(), engine_->entry_counts(cfg_.tools.hottest))
              : json(nullptr);
  if (engine_) {  // the --tc settings the numbers were measured under
    doc["translator"]["cache_bytes"] = cfg_.engine.cache_bytes;
    doc["translator"]["unit_max"] = cfg_.engine.max_unit_instructions;
    doc["translator"]["chaining"] = cfg_.engine.chaining;
    doc["translator"]["superblocks"] = cfg_.engine.superblocks;
    doc["translator"]["jump_cache_entries"] = cfg_.engine.jump_cache_entries;
    doc["translator"]["policy"] = evict_name(cfg_.engine.evict);
    if (cfg_.engine.evict == bt::Options::Evict::Generational)
      doc["translator"]["promote_after"] = cfg_.engine.promote_after;
    doc["translator"]["indirect_branches"] =
        cfg_.engine.indirect == bt::Options::IndirectBranch::Inline ? "inline" : "table";
  }
  doc["ports"] = ports_json(dev_->bus);
  doc["interrupts"] =
      events_ ? interrupts_json(events_->stats(), VirtualTimer::ticks()) : json(nullptr);
  if (de_) {
    const auto& d = de_->stats();
    json exits = json::object();
    for (size_t i = 0; i < size_t(hostexec::DeReason::kCount); ++i)
      exits[hostexec::de_reason_name(hostexec::DeReason(i))] = d.exits[i];
    const auto& c = direct_code_.stats();
    doc["direct_execution"] = {{"enabled", true},
                               {"entries", d.entries},
                               {"exits", exits},
                               {"ns_in_guest", d.ns_in_guest},
                               {"ldt_writes", d.ldt_writes},
                               {"processes", d.processes},
                               {"processes_taken_over", d.processes_taken_over},
                               {"process_switches", d.process_switches},
                               {"window",
                                {{"changes", d.window_changes},
                                 {"sent", d.window_sent},
                                 {"commands", d.window_commands},
                                 {"diffs", d.window_diffs},
                                 {"full", d.window_full}}},
                               {"code_pages",
                                {{"scans", c.scans},
                                 {"cleared", c.cleared},
                                 {"cpuid_pages", c.cpuid_pages},
                                 {"selector_query_pages", c.selector_query_pages},
                                 {"reverts", c.reverts},
                                 {"flip_limited", c.flip_limited},
                                 {"self_writers", c.self_writers}}}};
  } else {
    doc["direct_execution"] = {{"enabled", false}, {"why", direct_off_reason_}};
  }
  doc["shadow_mmu"] = shadow_json(shadow_.stats());
  const auto& calls = as_.host_calls();
  doc["shadow_mmu"]["host_calls"] = {
      {"maps", calls.maps}, {"unmaps", calls.unmaps}, {"protects", calls.protects}};
  doc["code_traces"] = {{"pages_traced", traces_.stats().pages_traced},
                        {"code_writes", traces_.stats().code_writes}};
  const uint64_t de_ns = de_ ? de_->stats().ns_in_guest : 0;
  const uint64_t slept = events_ ? events_->stats().slept_ns : 0;
  doc["time_ns"] = {
      {"translated_code", bt_ns_}, {"direct_execution", de_ns}, {"asleep_in_hlt", slept}};
  return doc.dump();
}

}  // namespace monitor

namespace monitor {

uint64_t Machine::now_ns_since_start() const {
  return start_ns_ ? devices::HostClock{}.now_ns() - start_ns_ : 0;
}

void Machine::open_tc_tools() {
  const TcToolsConfig& t = cfg_.tools;
  unit_tools_ = std::make_unique<UnitTools>(t);
  if ((!t.stats_file.empty() || t.stats_interval > 0) && !t.stats_json)
    throw OptionError("--stats-file and --stats-interval write JSON: add --stats=json");
  if (t.stats_interval < 0) throw OptionError("--stats-interval: not a positive number of seconds");
  stats_out_ = stderr;
  if (!t.stats_file.empty()) {
    stats_out_ = std::fopen(t.stats_file.c_str(), "w");
    if (!stats_out_)
      throw OptionError(
          fmt::format("--stats-file {}: cannot write it: {}", t.stats_file, std::strerror(errno)));
  }
}

void Machine::snapshot_stats() {
  std::fprintf(stats_out_, "%s\n", stats_json("snapshot").c_str());
  std::fflush(stats_out_);
  const auto period = uint64_t(cfg_.tools.stats_interval * 1e9);
  next_snapshot_ns_ += period;
  const uint64_t now = devices::HostClock{}.now_ns();
  if (next_snapshot_ns_ <= now) next_snapshot_ns_ = now + period;  // no burst after a stall
}

}  // namespace monitor
