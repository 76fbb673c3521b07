// The engine's internal state, shared by the dispatcher, the translator, the callouts and the
// fault handler.
#pragma once

#include <Zydis/Zydis.h>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "bt/engine.h"
#include "code_cache.h"
#include "inline_cache.h"
#include "link_table.h"
#include "runtime.h"
#include "translator.h"

namespace bt {

class UnitSpan;

class EngineCore {
 public:
  EngineCore(cpu::Cpu& cpu, CodeSource& src, const Options& opt);
  ~EngineCore();

  RunExit run(bool progress, bool single = false, bool keep_single = false);
  Unit* translate(uint32_t eip, uint64_t key);
  void flush();
  // Before a translation: room for one unit at the cursor (flush, or evict the oldest units).
  void make_room();
  void unlink();
  void unlink_page(uint32_t linear_page);
  void unlink_nonglobal();
  // Units that died (evicted, or their code written; never one on the stack): undoes exactly
  // the chains into them and their jump-cache entries; their chains out go with them.
  void bury(const std::vector<Unit*>& dead);
  uint64_t mode_key() const;

  // Callouts record here why they asked to leave translated code.
  void request_exit(RunExit e) { request_ = std::move(e); }
  void request_continue() { request_.reset(); }

  cpu::Cpu& cpu;
  cpu::Vcpu& v;
  CodeSource& src;
  Options opt;
  CodeCache cache;
  Runtime rt;
  Stats stats;
  std::vector<StaticExit> static_exits;
  std::optional<uint32_t> stop_eip;
  std::function<bool(uint32_t)> yield_check;
  WriteWatch watch;
  ZydisDecoder decoder;
  std::function<void(const UnitRecord&)> unit_observer;
  InlineCaches inline_caches;  // Options::IndirectBranch::Inline

  // Entry counters (entry_counts.cpp): one per unit, at a stable address translated code
  // increments; folded into `retired_` when a flush deletes their units.
  uint64_t* new_entry_counter();
  void retire_entry_counts();
  void retire_entry_count(const Unit& u);
  // An evicted unit's count is kept (retired) and its counter serves the next unit made.
  void free_entry_counter(const Unit& u);
  EntryCounts entry_counts(size_t top) const;
  // Tells unit_observer about `u` (unit_observer.cpp).
  void notify_unit(const Unit& u, std::vector<UnitRecord::Chain> chains);

 private:
  RunExit exit_for_fault();
  RunExit exit_for_fpu_error(int trapno);  // fpu_errors.cpp
  bool decode(uint32_t eip, Insn& in, std::string& err);
  bool may_fold(const Unit& unit, const UnitSpan& span, unsigned n, uint32_t target);
  // The pieces of translate() (translator.cpp): the unit's entry check, the exit for an
  // instruction that does not decode, one instruction by its family's emitter, and the chain
  // sites' exit stubs with the copy of the finished code into the cache (install).
  void emit_unit_entry(Ctx& c, Unit& unit);
  void emit_decode_failure(Ctx& c, Insn& in, uint32_t eip, const std::string& err);
  Flow emit_instruction(Ctx& c, const Insn& in, bool flat);
  Unit* install(asmjit::CodeHolder& code, Ctx& c, Unit&& unit, const UnitSpan& span, uint64_t key,
                std::chrono::steady_clock::time_point t0);
  void jc_insert(uint32_t eip, Unit* u);
  // The pieces of run() (engine.cpp; the first four are inline there: run's hot path).
  uint64_t sync_mode();  // the mode key, shifted; a new jump-cache generation when it changed
  uint64_t unit_key(uint64_t mode, uint32_t eip);
  Unit* find_unit(uint64_t key);
  Unit* make_unit(uint32_t eip, uint64_t mode);  // with its loop's exit
  Unit* unit_for(uint32_t eip, uint64_t mode);   // found or made; nullptr: a fetch fault
  bool yields(uint32_t eip);
  Unit* unit_on_miss(uint64_t mode, bool single, bool keep_single,
                     std::optional<cpu::Fault>& fault);
  // Flushes and evictions so far: a chain site or inline-cache slot noted before making a
  // unit may be gone when this changed.
  struct CacheEpoch {
    uint64_t flushes, evictions;
    bool operator==(const CacheEpoch&) const = default;
  };
  CacheEpoch cache_epoch() const { return {stats.flushes, stats.eviction_blocks}; }
  void link_chain(uint64_t mode, CacheEpoch before);
  void fill_lookup(uint64_t mode, CacheEpoch before);
  RunExit exit_for_static();

  // The linear pages a unit's code came from (its second page if it has one, else the first
  // again), and whether the guest maps them global.
  struct CodePages {
    uint32_t page, page2;
    bool global;
  };
  CodePages code_pages(const Unit& u);
  // FIFO eviction: drops the oldest units of the selected ring until `bytes` are free at the
  // cursor (or none is left ahead of it); with `hot`, collects the keys of those to promote.
  void evict_for(size_t bytes, std::vector<std::pair<uint32_t, uint64_t>>* hot = nullptr);
  // Evicts (and wraps) in the selected ring until a unit fits at the cursor.
  void fifo_room(std::vector<std::pair<uint32_t, uint64_t>>* hot);
  // Generational: whether a dying nursery unit is worth, and able, to be made again now
  // (entered often enough; its pages map the same frames in the current mode).
  bool promotable(const Unit& u);
  void promote(const std::vector<std::pair<uint32_t, uint64_t>>& hot);
  void jc_forget(const Unit& u);
  LinkTable links_;
  // Linear pages with jump-cache entries of the current generation (page -> all global).
  std::unordered_map<uint32_t, bool> jc_pages_;
  void new_generation() {
    v.jc_tag = ++generation_ << 32;
    jc_pages_.clear();
    jc_nonglobal_pages_ = 0;
  }
  // How many of jc_pages_ are not global: a CR3 write needs a new generation only then
  // (walking jc_pages_ to find out cost ~10 us per CR3 write in a Linux boot).
  uint32_t jc_nonglobal_pages_ = 0;
  uint32_t jc_mask_;
  std::unique_ptr<JumpCacheEntry[]> jc_;
  uint64_t generation_ = 1;
  uint64_t last_mode_ = ~0ull;
  std::optional<RunExit> request_;
  std::vector<uint8_t> fetch_buf_;
  std::deque<uint64_t> entry_counters_;
  std::vector<uint64_t*> free_counters_;  // evicted units' (new_entry_counter takes them first)
  struct Retired {
    uint64_t entries = 0;
    uint32_t ninsns = 0;
  };
  std::unordered_map<uint32_t, Retired> retired_;  // by eip
  uint64_t retired_insns_ = 0, retired_entries_ = 0;
};

// Emits the flag-free increment of `counter` at a unit's entry (r9, r10: scratch).
void emit_entry_count(asmjit::x86::Assembler& a, uint64_t* counter);

// Fault information the signal handler leaves for the dispatcher.
struct HostFault {
  int signo = 0;
  int trapno = -1;
  uint64_t err = 0;
  uint64_t address = 0;
  uint32_t eip = 0;
};
HostFault& last_host_fault();
void install_fault_handlers(EngineCore& core);
void remove_fault_handlers();

}  // namespace bt
