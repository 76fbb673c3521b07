// The dispatcher: finds or makes the unit for the current EIP, enters translated code, and
// handles each way back out (chain, jump-cache miss, pending event, callout, fault).
#include <fmt/format.h>

#include <bit>
#include <chrono>
#include <csignal>
#include <cstring>
#include <unordered_set>

#include "engine_core.h"

namespace bt {

bool jump_cache_size_supported(uint32_t n) {
  if (!std::has_single_bit(n) || n < kMinJumpCache || n > kMaxJumpCache) return false;
  return n == 256 || n == (1u << 16) || __builtin_cpu_supports("bmi2");
}

static std::string too_small(size_t bytes, size_t need, bool exact, size_t rings = 1) {
  return fmt::format(
      "a translation cache of {} bytes is too small: the runtime and one unit{} need {}{} ({}K)",
      bytes, rings > 1 ? " in each generation" : "", exact ? "" : "more than ", need,
      (need + 1023) / 1024);
}

EngineCore::EngineCore(cpu::Cpu& c, CodeSource& s, const Options& o)
    : cpu(c),
      v(c.vcpu()),
      src(s),
      opt(o),
      cache(o.cache_bytes),
      jc_mask_(o.jump_cache_entries - 1) {
  if (!jump_cache_size_supported(o.jump_cache_entries))
    throw std::invalid_argument(
        fmt::format("unsupported jump-cache size {}", o.jump_cache_entries));
  jc_.reset(new JumpCacheEntry[o.jump_cache_entries]);
  ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
  // Decode as the P6 family does: F3 0F BC/BD are bsf/bsr (rep ignored), and the encodings MPX
  // and CET later took are the hint NOPs they were.
  for (auto mode : {ZYDIS_DECODER_MODE_LZCNT, ZYDIS_DECODER_MODE_TZCNT, ZYDIS_DECODER_MODE_MPX,
                    ZYDIS_DECODER_MODE_CET})
    ZydisDecoderEnableMode(&decoder, mode, ZYAN_FALSE);
  if (o.cache_bytes <= kUnitReserve)
    throw CacheTooSmall(too_small(o.cache_bytes, kUnitReserve, false));
  rt.build(cache, unsigned(std::countr_zero(o.jump_cache_entries)));
  // Generational: a nursery and a persistent ring, each with room for one unit.
  const size_t rings = o.evict == Options::Evict::Generational ? 2 : 1;
  if (cache.available() < rings * kUnitReserve)
    throw CacheTooSmall(too_small(
        o.cache_bytes, cache.size() - cache.available() + rings * kUnitReserve, true, rings));
  if (rings == 2) cache.split(cache.available() / 2);
  std::memset(jc_.get(), 0, sizeof(JumpCacheEntry) * o.jump_cache_entries);
  v.jc_table = reinterpret_cast<uint64_t>(jc_.get());
  v.jc_tag = generation_ << 32;
  v.host_ctx = this;
  install_fault_handlers(*this);
}

EngineCore::~EngineCore() {
  remove_fault_handlers();
  v.host_ctx = nullptr;
}

uint64_t EngineCore::mode_key() const {
  // What a translation depends on beyond its bytes: CPL (inline cli/sti) and paging.
  // EFLAGS.TF: single-instruction units, never chained (the dispatcher raises #DB after each).
  return uint64_t(v.cpl) | (v.paging() ? 4 : 0) | ((v.eflags & cpu::fl::TF) ? 8 : 0);
}

// Each unlink sends the chosen sites back to the exit stubs they jumped to before they were
// patched, and starts a new jump-cache generation if an entry may lead into such code (no
// indirect branch finds an old target either).
void EngineCore::unlink() {
  stats.chains_undone += links_.undo_if([](const Link&) { return true; });
  new_generation();
  stats.unlinks++;
}

void EngineCore::unlink_page(uint32_t linear_page) {
  const uint32_t page = linear_page & ~0xfffu;
  stats.chains_undone += links_.undo_page(page);
  if (jc_pages_.count(page)) new_generation();  // no indirect branch finds an old target either
  stats.page_unlinks++;
}

void EngineCore::unlink_nonglobal() {
  stats.chains_undone += links_.undo_nonglobal();
  if (jc_nonglobal_pages_) new_generation();
  stats.nonglobal_unlinks++;
}

void EngineCore::flush() {
  links_.clear();
  retire_entry_counts();
  stats.invalidated += cache.units();
  cache.flush();
  inline_caches.reset();
  static_exits.clear();
  // Entries of the old generation can never match again.
  new_generation();
  stats.flushes++;
  stats.tc_bytes = stats.persistent_bytes = 0;
}

void EngineCore::make_room() {
  if (cache.room() >= kUnitReserve) return;
  const auto t0 = std::chrono::steady_clock::now();
  const uint64_t translating = stats.translate_ns;
  if (opt.evict == Options::Evict::Flush) {
    flush();
  } else if (opt.evict == Options::Evict::Fifo || cache.selected() == CodeCache::kPersistent) {
    fifo_room(nullptr);
  } else {
    std::vector<std::pair<uint32_t, uint64_t>> hot;
    fifo_room(&hot);
    promote(hot);
  }
  // Promotions are translations: their time is translate_ns.
  stats.make_room_ns += uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now() - t0)
                                     .count()) -
                        (stats.translate_ns - translating);
}

void EngineCore::fifo_room(std::vector<std::pair<uint32_t, uint64_t>>* hot) {
  // Evict the oldest units ahead of the cursor; at the end, go back to the start (the
  // constructor made sure a ring without units has the room).
  while (cache.room() < kUnitReserve) {
    if (cache.unit_ahead())
      evict_for(2 * kUnitReserve, hot);  // a block: the next few units need no eviction
    else
      cache.wrap();
  }
}

void EngineCore::evict_for(size_t bytes, std::vector<std::pair<uint32_t, uint64_t>>* hot) {
  std::vector<std::unique_ptr<Unit>> gone;
  while (cache.unit_ahead() && cache.room() < bytes) gone.push_back(cache.evict_oldest());
  std::vector<Unit*> dead;
  for (const auto& u : gone) {
    dead.push_back(u.get());
    if (hot && promotable(*u)) hot->emplace_back(u->eip, u->key);
  }
  bury(dead);
  for (const auto& u : gone) {
    free_entry_counter(*u);
    for (IcSlot* s : u->ic_slots) inline_caches.release(s);  // their sites went with the code
  }
  stats.evictions += gone.size();
  if (cache.selected() == CodeCache::kPersistent) stats.persistent_evictions += gone.size();
  stats.invalidated += gone.size();
  stats.eviction_blocks++;
  stats.tc_bytes = cache.used();
}

bool EngineCore::promotable(const Unit& u) {
  if (u.dead || !u.entries || *u.entries < opt.promote_after) return false;
  // Made again from the same bytes only: the same mode (a one-instruction unit's key has
  // bits above the mode and never matches), and its pages still map the frames it read.
  if ((u.key >> 52) != mode_key()) return false;
  if (src.fetch_fault(u.eip) || src.phys_page(u.eip) != u.frame) return false;
  return u.frame2 == Unit::kNoFrame || src.phys_page(u.page2) == u.frame2;
}

void EngineCore::promote(const std::vector<std::pair<uint32_t, uint64_t>>& hot) {
  cache.select(CodeCache::kPersistent);  // translate()'s make_room evicts there, FIFO
  for (const auto& [eip, key] : hot) {
    if (cache.find(key)) continue;  // made again meanwhile (a replaced unit's key)
    translate(eip, key);
    stats.promotions++;
  }
  cache.select(CodeCache::kNursery);
  stats.persistent_bytes = cache.ring_used(CodeCache::kPersistent);
}

void EngineCore::bury(const std::vector<Unit*>& dead) {
  // Chains out of dead code vanish with it (first, so that no chain between two of them is
  // patched back in dead code); chains into a dead unit go back to their exit stubs.
  for (Unit* u : dead) links_.drop_out_of(*u);
  std::unordered_set<uint64_t> hosts;
  for (Unit* u : dead) {
    stats.chains_undone += links_.undo_into(*u);
    jc_forget(*u);
    hosts.insert(reinterpret_cast<uint64_t>(u->host));
  }
  inline_caches.forget_targets(hosts);  // and no inline cache leads there either
}

void EngineCore::jc_forget(const Unit& u) {
  // An entry leads to a unit only from that unit's own EIP (jc_insert).
  JumpCacheEntry& e = jc_[u.eip & jc_mask_];
  if (e.host == reinterpret_cast<uint64_t>(u.host)) e.key = 0;  // no tag is 0: it never matches
}

EngineCore::CodePages EngineCore::code_pages(const Unit& u) {
  const uint32_t page = u.eip & ~0xfffu, page2 = u.frame2 != Unit::kNoFrame ? u.page2 : page;
  return {page, page2, src.global(page) && (page2 == page || src.global(page2))};
}

void EngineCore::jc_insert(uint32_t eip, Unit* u) {
  // Which pages (global or not) the cached targets came from, for unlink_page/_nonglobal.
  const CodePages cp = code_pages(*u);
  for (uint32_t p : {cp.page, cp.page2}) {
    auto it = jc_pages_.try_emplace(p, true).first;
    if (it->second && !cp.global) {  // a page becomes not global once per generation
      it->second = false;
      ++jc_nonglobal_pages_;
    }
  }
  JumpCacheEntry& e = jc_[eip & jc_mask_];
  e.key = v.jc_tag | eip;
  e.host = reinterpret_cast<uint64_t>(u->host);
}

inline uint64_t EngineCore::sync_mode() {
  const uint64_t mode = mode_key();
  if (mode != last_mode_) {
    last_mode_ = mode;
    new_generation();  // jump-cache entries belong to one mode
  }
  return mode << 52;
}

// Translations are keyed by mode, the guest-physical page of their first byte and their
// linear EIP: the same linear code in another address space is another unit.
inline uint64_t EngineCore::unit_key(uint64_t mode, uint32_t eip) {
  return mode | (uint64_t(src.phys_page(eip)) << 32) | eip;
}

// The key names the first page only: a unit with a second page (Unit::frame2) holds only
// while that page still comes from the same frame (it may not, in another address space);
// otherwise it is made again under the same key.
inline Unit* EngineCore::find_unit(uint64_t key) {
  Unit* u = cache.find(key);
  if (u && u->frame2 != Unit::kNoFrame && src.phys_page(u->page2) != u->frame2) return nullptr;
  return u;
}

// A loop's exit is made with the loop (Options::translate_loop_exits); never when the cache
// would have to make room for it (translate's make_room: a flush, or an eviction), which could
// delete the loop's unit.
Unit* EngineCore::make_unit(uint32_t eip, uint64_t mode) {
  Unit* made = translate(eip, unit_key(mode, eip));
  if (!opt.translate_loop_exits || !made->loop_exit || cache.room() < kUnitReserve) return made;
  const uint32_t after = *made->loop_exit;
  if (stop_eip && after == *stop_eip) return made;  // never entered: run() stops there
  if (!find_unit(unit_key(mode, after)) && !src.fetch_fault(after)) {
    translate(after, unit_key(mode, after));
    stats.loop_exit_units++;
  }
  return made;
}

// The unit for `eip`, made if there is none; nullptr where the guest may not fetch (the
// dispatcher raises that fault at its loop top).
Unit* EngineCore::unit_for(uint32_t eip, uint64_t mode) {
  if (Unit* u = find_unit(unit_key(mode, eip))) return u;
  return src.fetch_fault(eip) ? nullptr : make_unit(eip, mode);
}

inline bool EngineCore::yields(uint32_t eip) {
  return yield_check && yield_check(eip);
}

// The unit to enter at v.eip when the plain lookup has none (or under `single`); nullptr with
// `fault` set when the guest may not fetch there. A one-instruction unit made while its code
// stays traced is kept under its own key (the same writer tends to come back); an untraced one
// must not outlive the instruction.
Unit* EngineCore::unit_on_miss(uint64_t mode, bool single, bool keep_single,
                               std::optional<cpu::Fault>& fault) {
  const uint32_t eip = v.eip;
  uint64_t single_key = (uint64_t(1) << 63) | (stats.units << 32) | eip;  // a key no lookup uses
  if (single && keep_single) {
    single_key = (uint64_t(1) << 62) | unit_key(mode, eip);
    if (Unit* u = find_unit(single_key)) return u;
  }
  // A unit starts only where the guest may fetch; elsewhere the fetch is its exception.
  if ((fault = src.fetch_fault(eip))) return nullptr;
  if (!single) return make_unit(eip, mode);
  const unsigned cap = opt.max_unit_instructions;
  opt.max_unit_instructions = 1;
  Unit* u = translate(eip, single_key);
  opt.max_unit_instructions = cap;
  return u;
}

// A chain exit: the site at v.exit_info is patched to jump straight to the target's unit.
void EngineCore::link_chain(uint64_t mode, CacheEpoch before) {
  Unit* t = unit_for(v.eip, mode);
  if (!t || cache_epoch() != before) return;  // the site may have gone with a flush or an eviction
  // A chain fixes where the target's linear address led when it was made: links are undone
  // when the guest's mappings of its pages change (unlink_page, on invlpg; unlink_nonglobal,
  // on a CR3 write, unless the guest maps them global).
  auto* site = reinterpret_cast<uint8_t*>(v.exit_info);
  const CodePages cp = code_pages(*t);
  links_.chain(site, cache.unit_at(site), t, cp.page, cp.page2, cp.global);
  stats.chains++;
}

// A jump-cache miss: the target's unit goes into the jump cache, and into the inline-cache
// slot the miss came from (v.exit_info), if any.
void EngineCore::fill_lookup(uint64_t mode, CacheEpoch before) {
  Unit* t = unit_for(v.eip, mode);
  if (!t) return;
  jc_insert(v.eip, t);
  // Unless making the target evicted or flushed the site (its slot may serve another site by
  // now).
  if (v.exit_info && cache_epoch() == before) {
    auto* slot = reinterpret_cast<IcSlot*>(v.exit_info);
    slot->key = v.jc_tag | v.eip;
    slot->host = reinterpret_cast<uint64_t>(t->host);
  }
}

RunExit EngineCore::exit_for_static() {
  stats.static_exits++;
  const StaticExit& s = static_exits.at(v.exit_info);
  RunExit x;
  if (s.kind == StaticExit::Kind::Exception) {
    x.kind = RunExit::Kind::Exception;
    x.fault = cpu::Fault{s.vector, s.error_code, 0};
    x.software = s.software;
  } else {
    x.kind = RunExit::Kind::Unsupported;
    x.what = s.what;
  }
  x.next_eip = s.next_eip;
  v.eip = s.eip;
  return x;
}

RunExit EngineCore::run(bool progress, bool single, bool keep_single) {
  uint64_t mode = sync_mode();
  for (bool first = true;; first = false) {
    if (v.pending.any) return RunExit{RunExit::Kind::Event};
    if (stop_eip && v.eip == *stop_eip) return RunExit{RunExit::Kind::Stop};
    if (!(first && progress) && yields(v.eip)) return RunExit{RunExit::Kind::Yield};
    if (single && !first) return RunExit{RunExit::Kind::Yield};
    mode = sync_mode();  // TF may have changed (popf, iret): it is part of the mode
    const bool stepping = v.eflags & cpu::fl::TF;
    // Whether translated code may go on straight to v.eip after this exit (a chain, a jump-cache
    // entry): not when each instruction must come back here, nor where the run stops or yields.
    auto goes_on = [&] {
      return !single && !stepping && !(stop_eip && v.eip == *stop_eip) && !yields(v.eip);
    };
    Unit* u = single ? nullptr : find_unit(unit_key(mode, v.eip));
    if (!u) {
      std::optional<cpu::Fault> fault;
      if (!(u = unit_on_miss(mode, single, keep_single, fault))) {
        RunExit x;
        x.kind = RunExit::Kind::Exception;
        x.fault = *fault;
        return x;
      }
    }
    stats.entries++;
    const CacheEpoch epoch = cache_epoch();
    auto reason = cpu::Exit(rt.enter(&v, u->host));
    stats.lookup_hits = v.jc_hits;
    switch (reason) {
      case cpu::Exit::Chain:
        if (opt.chaining && goes_on()) link_chain(mode, epoch);
        break;
      case cpu::Exit::Lookup:
        stats.lookup_misses++;
        if (goes_on()) fill_lookup(mode, epoch);
        break;
      case cpu::Exit::Pending:
        stats.exits_pending++;
        return RunExit{RunExit::Kind::Event};
      case cpu::Exit::Callout:
        if (request_) {
          RunExit x = std::move(*request_);
          request_.reset();
          return x;
        }
        mode = sync_mode();
        break;
      case cpu::Exit::Fault:
        stats.host_faults++;
        return exit_for_fault();
      case cpu::Exit::Static:
        return exit_for_static();
      default:
        throw std::logic_error(fmt::format("bad exit reason {} from translated code", int(reason)));
    }
    // Here the instruction completed. Under TF that is a single-step trap (SDM Vol. 3 §17.3.1.4),
    // with TF as it was before the instruction (popf/iret setting it trap one instruction
    // later), except right after an SS load, which holds debug traps back one instruction.
    if (stepping && !u->ends_with_ss_load) {
      RunExit x;
      x.kind = RunExit::Kind::Exception;
      x.fault = cpu::Fault{cpu::kDB};
      x.fault.dr6 = cpu::dr6::BS;
      x.next_eip = v.eip;
      stats.single_steps++;
      return x;
    }
  }
}

RunExit EngineCore::exit_for_fault() {
  const HostFault& f = last_host_fault();
  RunExit x;
  x.host_trapno = f.trapno;
  x.host_error = uint32_t(f.err);
  switch (f.signo) {
    case SIGFPE:
      return exit_for_fpu_error(f.trapno);
    case SIGILL:
      x.kind = RunExit::Kind::Exception;
      x.fault = cpu::Fault{cpu::kUD};
      break;
    default:
      if (f.signo == SIGSEGV && f.trapno == cpu::kGP) {
        // A guest instruction's own #GP (a misaligned SSE operand): no host address is wrong.
        x.kind = RunExit::Kind::Exception;
        x.fault = cpu::Fault::gp(0);
        break;
      }
      if (f.address >> 32) {  // a segment base plus offset past 4 GiB, into the guard
        x.kind = RunExit::Kind::Unsupported;
        x.what = fmt::format(
            "guest access at {:#x}: a segment base and offset that wrap past "
            "4 GiB",
            f.address);
        break;
      }
      x.kind = RunExit::Kind::MemoryFault;
      x.address = uint32_t(f.address);
      x.write = f.err & 2;
      break;
  }
  return x;
}

// ---- the public face ----

Engine::Engine(cpu::Cpu& cpu, CodeSource& code, const Options& opt)
    : impl_(std::make_unique<EngineCore>(cpu, code, opt)) {}
Engine::~Engine() = default;
RunExit Engine::run(bool progress) {
  return impl_->run(progress);
}
RunExit Engine::run_single(bool traced) {
  return impl_->run(true, true, traced);
}
void Engine::set_yield_check(std::function<bool(uint32_t)> check) {
  impl_->yield_check = std::move(check);
}
void Engine::set_write_watch(WriteWatch w) {
  impl_->watch = std::move(w);
}
void Engine::set_stop_eip(std::optional<uint32_t> eip) {
  impl_->stop_eip = eip;
}
void Engine::flush() {
  impl_->flush();
}
void Engine::unlink() {
  impl_->unlink();
}
void Engine::unlink_page(uint32_t linear) {
  impl_->unlink_page(linear);
}
void Engine::unlink_nonglobal() {
  impl_->unlink_nonglobal();
}
size_t Engine::invalidate_frame(uint32_t frame) {
  const std::vector<Unit*> dead = impl_->cache.forget_frame(frame);
  // Exactly the chains into them go, and their jump-cache entries; their code stays until
  // eviction or a flush reclaims its space.
  impl_->bury(dead);
  impl_->stats.invalidated += dead.size();
  return dead.size();
}
const Stats& Engine::stats() const {
  if (impl_->opt.indirect == Options::IndirectBranch::Inline) {
    impl_->stats.inline_hits = impl_->inline_caches.hits();
    impl_->stats.inline_misses = impl_->inline_caches.misses();
    impl_->stats.inline_sites = impl_->inline_caches.slots();
    impl_->stats.inline_slots = impl_->inline_caches.allocated();
    impl_->stats.inline_slots_reclaimed = impl_->inline_caches.reclaimed();
  }
  return impl_->stats;
}
EntryCounts Engine::entry_counts(size_t top) const {
  return impl_->entry_counts(top);
}
void Engine::set_unit_observer(std::function<void(const UnitRecord&)> observer) {
  impl_->unit_observer = std::move(observer);
}
size_t Engine::translate_for_bench(uint32_t eip, uint32_t* guest_bytes) {
  // A key no dispatch uses, so every call makes a fresh unit.
  Unit* u = impl_->translate(eip, (uint64_t(1) << 63) | (impl_->stats.units << 32) | eip);
  if (guest_bytes) *guest_bytes = u->guest_bytes;
  return u->host_size;
}

}  // namespace bt
