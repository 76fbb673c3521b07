#include "shadowmmu/shadow.h"

#include <fmt/format.h>
#include <sys/mman.h>

#include <algorithm>
#include <functional>

namespace shadowmmu {

namespace {
// A hidden fault from ring 3 also maps the already-accessed neighbours in its aligned 64 KiB
// block: an mmap costs a few microseconds, and its first touch less than the host fault it
// saves (bench_host_costs, docs/PERFORMANCE.md). Entries whose A bit is clear are left alone,
// so the guest still sees A set exactly where it touched. Ring 0 gets no prefetch: what it maps is
// mostly supervisor-only and goes at the next entry to ring 3, and in a guest switching
// processes on every tick those wasted calls ate the ticks (processes, in the TCG VM).
constexpr uint32_t kPrefetchPages = 16;
}  // namespace

std::string Shadow::Stats::report() const {
  return fmt::format(
      "shadow MMU\n  hidden faults {}\n  true faults (guest #PF) {}\n  pages mapped {} ({} "
      "prefetched)\n  pages dropped {}\n  CR3 writes {} (global mappings kept {})\n  invlpg {}\n"
      "  ring-3 entries hiding supervisor mappings {} ({} pages parked in {} calls, {} "
      "dropped; {} entries with no translated ring-3 run to park for; {} unparked by ring 0 in "
      "{} calls)\n"
      "  mappings restored when CR3 came back {} ({} more taken up by the space's "
      "direct-execution process)\n  hidden faults of directly executed code mapped in its "
      "process only {}\n  whole-shadow drops {}\n"
      "  global flushes (CR4.PGE toggles) {}\n"
      "  page tables traced {} (released {})\n"
      "  trace hits: page-table writes {} ({} entries changed, {} mappings dropped, {} mapped "
      "from the new entry)\n",
      hidden_faults, true_faults, pages_mapped, prefetched, pages_dropped, cr3_switches,
      globals_kept, invlpg, user_entries, supervisor_parked, park_calls, supervisor_drops,
      parks_skipped, supervisor_unparked, unpark_calls, restored, taken_up, direct_only, drops_all,
      global_flushes, tables_traced, tables_released, table_writes, entries_changed, table_drops,
      table_updates);
}

std::variant<Translation, uint32_t> Shadow::translate(uint32_t linear, bool write, bool user) {
  return walk({as_.physmap(), as_.ram_size(), as_.mmio()}, v_.cr0, v_.cr3, v_.cr4, linear,
              {write, user});
}

std::optional<Translation> Shadow::peek_mappable(uint32_t page, bool user) const {
  auto t = peek({as_.physmap(), as_.ram_size(), as_.mmio()}, v_.cr0, v_.cr3, v_.cr4, page,
                {false, user});
  if (!t || !in_ram(t->phys)) return std::nullopt;
  return t;
}

std::optional<uint32_t> Shadow::phys_of(uint32_t linear, bool write, bool user) {
  if (!v_.paging()) return linear;
  auto r = translate(linear, write, user);
  if (auto* t = std::get_if<Translation>(&r)) return t->phys;
  return std::nullopt;
}

int Shadow::prot_for(const Mapping& m) const {
  return m.parked ? PROT_NONE : rights_for(m);
}

int Shadow::rights_for(const Mapping& m) const {
  // Read-only until the guest entry is dirty, so the first write sets D through a fault; and
  // read-only while the frame holds translated code, directly executed code or page tables,
  // so writes to them are seen.
  const uint8_t f = as_.page_flags(m.phys);
  return PROT_READ | (m.may_write && !(f & AddressSpace::kReadOnlyFlags) ? PROT_WRITE : 0) |
         (f & AddressSpace::kDirect ? PROT_EXEC : 0);
}

bool Shadow::install(uint32_t linear, const Translation& t, bool here) {
  const uint32_t page = linear & kPageMask;
  Mapping m{.phys = t.phys & kPageMask,
            .pde_pa = t.pde_pa,
            .pte_pa = t.pte_pa,
            .may_write = t.writable && t.dirty,
            .global = t.global,
            .user_safe = user_safe(t),
            .parked = false,
            .elsewhere = false,
            .seq = ++seq_};
  if (!here && !m.user_safe) return false;  // no process may hold it
  if (auto old = maps_.find(page); old != maps_.end()) {
    // A refill replaces it; in the monitor's window too if it is there (one call either way).
    if (!old->second.elsewhere) here = true;
    forget(old);
  }
  m.elsewhere = !here;
  // Trace the tables first: if the page is one of them it is mapped read-only at once.
  const uint64_t epoch = stats_.drops_all;
  trace_table(m.pde_pa, true, page);
  if (m.pte_pa != Translation::kNoPte) trace_table(m.pte_pa, false, page);
  if (stats_.drops_all != epoch) {  // re-protecting an alias met the host's limit
    host_limit();                   // (and what was traced after it must go too)
    return false;
  }
  if (!here) {
    as_.map_elsewhere(page, m.phys, rights_for(m));
  } else if (!as_.map_page(page, m.phys, prot_for(m), ring3_of(m))) {
    if (m.pte_pa != Translation::kNoPte) untrace_table(m.pte_pa);
    untrace_table(m.pde_pa);
    return false;  // a mapping it replaced may still be there: the caller drops the window
  }
  maps_.emplace(page, m);
  if (!m.global) nonglobal_.insert(page);
  aliases_[m.phys >> 12].push_back(page);
  if (!m.user_safe) {
    unsafe_.push_back(page);
    // With lazy parking, rarely taken: keep the list about as long as the mappings it names.
    if (unsafe_.size() > 2 * maps_.size() + 64) compact_unsafe();
  }
  if (here) stats_.pages_mapped++;
  return true;
}

bool Shadow::reprotect(uint32_t page, const Mapping& m) {
  if (!m.elsewhere) return as_.protect_page(page, prot_for(m), ring3_of(m));
  as_.protect_elsewhere(page, rights_for(m));
  return true;
}

std::vector<HeldPage> Shadow::ring3_pages() const {
  std::vector<HeldPage> out;
  for (const auto& [page, m] : maps_)
    if (m.user_safe) out.push_back({page, m.phys, rights_for(m)});
  return out;
}

Shadow::Fill Shadow::fill(uint32_t linear, bool write, bool user, bool direct) {
  return fill(linear, user, translate(linear, write, user), direct);
}

Shadow::Fill Shadow::fill(uint32_t linear, bool user, const std::variant<Translation, uint32_t>& r,
                          bool direct) {
  if (auto* err = std::get_if<uint32_t>(&r)) {
    stats_.true_faults++;
    return {Outcome::GuestFault, *err};
  }
  const Translation& t = std::get<Translation>(r);
  if (!in_ram(t.phys)) return {Outcome::NoRam};
  if (!user && unpark(linear & kPageMask, t)) return {Outcome::Mapped, 0, t.phys};
  // A directly executed access needs the page in the process's window only: no host call here
  // (and one fewer to undo at the next CR3 write). Not a page table: the monitor runs a write
  // to one itself, in its own window.
  const bool here = !(per_space_ && direct && user_safe(t) && !is_table(t.phys));
  if (!install(linear, t, here)) {
    host_limit();
    if (!install(linear, t, here))
      throw Error("the host refuses to map even one guest page (vm.max_map_count too low?)");
  }
  stats_.hidden_faults++;
  if (maps_.at(linear & kPageMask).elsewhere) stats_.direct_only++;
  if (user) prefetch(linear, here);
  return {Outcome::Mapped, 0, t.phys};
}

bool Shadow::unpark(uint32_t page, const Translation& t) {
  auto it = maps_.find(page);
  if (it == maps_.end() || !it->second.parked) return false;
  const Mapping& m = it->second;
  // Traces keep a parked mapping coherent, so the walk gives it again unless the access set
  // D just now: then it is made afresh (install), writable.
  if (m.phys != (t.phys & kPageMask) || m.may_write != (t.writable && t.dirty)) return false;
  // The whole run of parked neighbours with the same rights comes back with it: one call, and
  // ring 0 touches neighbours together (stacks, slabs); all of them were accessible to ring 0
  // before ring 3 ran, and are parked again in one call at the next entry to ring 3.
  const int prot = rights_for(m);
  auto joins = [&](auto page, uint32_t at) {  // parked at window page `at`, with those rights
    return page->first == at && page->second.parked && rights_for(page->second) == prot;
  };
  auto first = it, last = it;
  while (first != maps_.begin() && joins(std::prev(first), first->first - 4096)) --first;
  while (std::next(last) != maps_.end() && joins(std::next(last), last->first + 4096)) ++last;
  const uint32_t count = (last->first - first->first) / 4096 + 1;
  // Parked pages are the ones ring 3 may not use.
  if (!as_.protect_pages(first->first, count, prot, Ring3::Denied)) {
    host_limit();
    return false;
  }
  for (auto p = first;; ++p) {
    p->second.parked = false;
    unsafe_.push_back(p->first);
    if (p == last) break;
  }
  stats_.supervisor_unparked += count;
  stats_.unpark_calls++;
  stats_.hidden_faults++;
  return true;
}

void Shadow::prefetch(uint32_t linear, bool here) {
  const uint32_t first = linear & ~(kPrefetchPages * 4096 - 1);
  for (uint32_t i = 0; i < kPrefetchPages; ++i) {
    const uint32_t page = first + i * 4096;
    if (page == (linear & kPageMask) || maps_.count(page)) continue;
    auto t = peek_mappable(page, true);
    if (!t) continue;
    if (!install(page, *t, here || !user_safe(*t))) return;
    stats_.prefetched++;
  }
}

void Shadow::forget(std::map<uint32_t, Mapping>::iterator it) {
  const uint32_t page = it->first;
  const Mapping m = it->second;
  maps_.erase(it);
  if (!m.global) nonglobal_.erase(page);
  auto a = aliases_.find(m.phys >> 12);
  if (a != aliases_.end()) {
    std::erase(a->second, page);
    if (a->second.empty()) aliases_.erase(a);
  }
  if (m.pte_pa != Translation::kNoPte) untrace_table(m.pte_pa);
  untrace_table(m.pde_pa);
}

void Shadow::remove(uint32_t page) {
  auto it = maps_.find(page);
  if (it == maps_.end()) return;
  if (it->second.elsewhere)
    as_.unmap_elsewhere(page);
  else if (!as_.unmap_page(page))
    return host_limit();
  forget(it);
  stats_.pages_dropped++;
}

void Shadow::host_limit() {
  // The host's mapping limit (vm.max_map_count): start the shadow afresh. Replacing the whole
  // window always takes fewer mappings, never more.
  stats_.drops_all++;
  drop_window();
}

template <class Pred>
size_t Shadow::remove_if(Pred pred) {
  std::vector<uint32_t> pages;
  for (const auto& [page, m] : maps_)
    if (pred(m)) pages.push_back(page);
  remove_pages(pages);
  return pages.size();
}

void Shadow::remove_pages(const std::vector<uint32_t>& pages) {
  // Unmapping page by page is far cheaper than replacing the whole 4 GiB window while there
  // are few pages; past a few thousand, one call wins (if nothing is to stay).
  if (pages.size() > kBulkDrop && pages.size() == maps_.size()) return drop_window();
  for (uint32_t page : pages) remove(page);
}

std::vector<uint32_t> Shadow::nonglobal_pages() const {
  std::vector<uint32_t> pages(nonglobal_.begin(), nonglobal_.end());
  std::sort(pages.begin(), pages.end());
  return pages;
}

void Shadow::drop_window() {
  stats_.pages_dropped += maps_.size();
  as_.unmap_window();
  maps_.clear();
  nonglobal_.clear();
  aliases_.clear();
  unsafe_.clear();
  for (const auto& [frame, tab] : tables_)
    as_.set_page_flag(frame << 12, AddressSpace::kTable, false);
  tables_.clear();
}

void Shadow::drop_all() {
  stats_.drops_all++;
  remove_if([](const Mapping&) { return true; });
}

void Shadow::drop_globals() {
  stats_.global_flushes++;
  remove_if([](const Mapping& m) { return m.global; });
}

void Shadow::reset() {
  stats_.drops_all++;
  drop_window();
}

void Shadow::invlpg(uint32_t linear) {
  stats_.invlpg++;
  remove(linear & kPageMask);
}

namespace {
// Moves the entry for `cr3` (made afresh if there is none) to the back of `spaces`, the most
// recently used last, dropping the oldest beyond `max`.
template <class Space>
Space& touch_space(std::vector<Space>& spaces, uint32_t cr3, size_t max) {
  std::erase_if(spaces, [&](const Space& sp) { return sp.cr3 == cr3; });
  if (spaces.size() == max) spaces.erase(spaces.begin());
  return spaces.emplace_back(Space{cr3, {}});
}

// Takes the pages listed for `cr3` out of `spaces` (none if it has no entry).
template <class Space>
std::vector<uint32_t> take_space(std::vector<Space>& spaces, uint32_t cr3) {
  auto it =
      std::find_if(spaces.begin(), spaces.end(), [&](const Space& sp) { return sp.cr3 == cr3; });
  if (it == spaces.end()) return {};
  std::vector<uint32_t> pages = std::move(it->pages);
  spaces.erase(it);
  return pages;
}
}  // namespace

void Shadow::keep_user_pages(uint32_t cr3, const std::vector<uint32_t>& nonglobal) {
  Space& left = touch_space(held_, cr3, kSpaces);
  for (uint32_t page : nonglobal)
    if (maps_.at(page).user_safe) left.pages.push_back(page);
}

void Shadow::take_up_user_pages(uint32_t cr3) {
  for (uint32_t page : take_space(held_, cr3)) {
    if (maps_.count(page)) continue;
    // Its process still holds the page, as it was when CR3 was last written: recorded again
    // (and traced) where the tables still give it, accessed; the process's window is compared
    // with what it should hold before it runs again (ring3_pages()), so whatever changed goes.
    auto t = peek_mappable(page, true);
    if (t && install(page, *t, false)) stats_.taken_up++;
  }
}

void Shadow::cr3_written(uint32_t old_cr3) {
  stats_.cr3_switches++;
  const std::vector<uint32_t> nonglobal = nonglobal_pages();
  if (per_space_) keep_user_pages(old_cr3 & kPageMask, nonglobal);
  // Remember the most recently made non-global mappings of the space being left (with one
  // process per space, only those its process does not keep).
  std::vector<std::pair<uint32_t, uint32_t>> recent;  // (seq, page)
  for (uint32_t page : nonglobal) {
    const Mapping& m = maps_.at(page);
    if (!(per_space_ && m.user_safe)) recent.emplace_back(m.seq, page);
  }
  if (recent.size() > kSpacePages) {
    std::nth_element(recent.begin(), recent.begin() + kSpacePages, recent.end(), std::greater<>());
    recent.resize(kSpacePages);
  }
  Space& left = touch_space(spaces_, old_cr3 & kPageMask, kSpaces);
  for (const auto& r : recent) left.pages.push_back(r.second);

  remove_pages(nonglobal);
  stats_.globals_kept += maps_.size();

  restore_recent_pages(v_.cr3 & kPageMask);
  if (per_space_) take_up_user_pages(v_.cr3 & kPageMask);
}

void Shadow::restore_recent_pages(uint32_t cr3) {
  for (uint32_t page : take_space(spaces_, cr3)) {
    if (maps_.count(page)) continue;
    // Only what is accessed (and, to be writable, dirty) already; nothing is set.
    auto t = peek_mappable(page, false);
    if (!t) continue;
    if (!install(page, *t)) return;
    stats_.restored++;
  }
}

// Drops the entries of unsafe_ that name no mapping to park any more (gone, refilled by ring
// 3, or parked already) and the duplicates; sorted.
void Shadow::compact_unsafe() {
  std::vector<uint32_t> pages;
  for (uint32_t page : unsafe_) {
    auto it = maps_.find(page);
    if (it != maps_.end() && !it->second.user_safe && !it->second.parked) pages.push_back(page);
  }
  std::sort(pages.begin(), pages.end());
  pages.erase(std::unique(pages.begin(), pages.end()), pages.end());
  unsafe_ = std::move(pages);
}

void Shadow::entering_user() {
  if (lazy_parking_) {
    park_owed_ = true;
    return;
  }
  park_supervisor();
}

bool Shadow::shows_nothing(uint32_t from, uint32_t to) const {
  for (auto it = maps_.lower_bound(from); it != maps_.end() && it->first < to; ++it)
    if (!it->second.parked && !it->second.elsewhere) return false;
  return true;
}

void Shadow::park_supervisor() {
  park_owed_ = false;
  if (unsafe_.empty()) return;
  compact_unsafe();
  std::vector<uint32_t> pages = std::move(unsafe_);
  unsafe_.clear();
  if (pages.empty()) return;
  stats_.user_entries++;
  // Parked pages stay parked in ring 0 too: the first ring-0 access to a run faults and
  // unparks it (unpark), one host fault and one call per run the kernel touches, instead of a
  // protection change for every run on every kernel entry (a timer tick that interrupts ring 3
  // touches part of the ~100 parked pages). Where each host page-table change costs 12-25 us
  // that was most of the time of system-call-heavy guests (docs/PERFORMANCE.md, "Lazy
  // unparking"). So only pages filled or unparked since the last entry are parked here.
  // One mprotect covers a span of pages while what lies between them is nothing the window
  // shows (holes of its PROT_NONE reservation, pages parked already, pages only the
  // direct-execution process holds): PROT_NONE leaves those as they are. On the PVM host one
  // call over 64 scattered pages costs what 5 one-page calls do ("Parking in spans" in
  // docs/PERFORMANCE.md). Past kParkRuns calls, unmapping is as cheap.
  size_t calls = 0;
  for (size_t i = 0; i < pages.size();) {
    size_t j = i + 1;
    while (j < pages.size() && shows_nothing(pages[j - 1] + 4096, pages[j])) ++j;
    if (maps_.empty()) return;  // the host's limit was hit: nothing is mapped
    if (calls++ < kParkRuns) {
      const auto count = uint32_t((uint64_t(pages[j - 1]) + 4096 - pages[i]) / 4096);
      if (!as_.protect_pages(pages[i], count, PROT_NONE, Ring3::Denied)) return host_limit();
      for (size_t k = i; k < j; ++k) maps_.at(pages[k]).parked = true;
      stats_.supervisor_parked += j - i;
      stats_.park_calls++;
    } else {
      for (size_t k = i; k < j; ++k) remove(pages[k]);
      stats_.supervisor_drops += j - i;
    }
    i = j;
  }
}

void Shadow::entering_kernel() {
  // Parked pages stay parked (park_supervisor); only a parking still owed is forgotten.
  if (park_owed_) {
    park_owed_ = false;
    stats_.parks_skipped++;
  }
}

void Shadow::protect_phys(uint32_t phys) {
  auto a = aliases_.find(phys >> 12);
  if (a == aliases_.end()) return;
  const std::vector<uint32_t> pages = a->second;  // host_limit() empties aliases_
  for (uint32_t page : pages) {
    if (!reprotect(page, maps_.at(page))) return host_limit();
  }
}

}  // namespace shadowmmu
