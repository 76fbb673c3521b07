// Page-table traces: the guest frames holding entries the shadow's mappings were made from
// are read-only in the window while any such mapping exists. A guest write to one runs alone
// between table_write_begin and table_write_end; comparing the frame before and after finds
// the entries it changed, whatever the instruction was (mov, cmpxchg8b, rep stos), and only
// the mappings made from those entries go.
#include <sys/mman.h>

#include <algorithm>
#include <cstring>

#include "shadowmmu/shadow.h"

namespace shadowmmu {

void Shadow::trace_table(uint32_t entry_pa, bool dir, uint32_t linear) {
  const uint32_t frame = entry_pa >> 12;
  Table& tab = tables_[frame];
  if (dir) {
    tab.dir = true;
  } else {
    const auto slot = uint16_t(linear >> 22);
    if (std::find(tab.slots.begin(), tab.slots.end(), slot) == tab.slots.end())
      tab.slots.push_back(slot);
  }
  tab.refs++;
  if (is_table(entry_pa)) return;  // traced already (perhaps idle)
  as_.set_page_flag(entry_pa, AddressSpace::kTable, true);
  stats_.tables_traced++;
  protect_phys(entry_pa);  // its own mappings become read-only
}

// A table no mapping uses any more stays traced, idle: the guest often maps through it again
// soon (re-protecting it would cost a host call per alias), and its next write through the
// window (table_write_begin: not a known page-table writer) releases it.
void Shadow::untrace_table(uint32_t entry_pa) {
  auto it = tables_.find(entry_pa >> 12);
  if (it != tables_.end() && it->second.refs) it->second.refs--;
}

bool Shadow::release_if_idle(uint32_t phys) {
  auto t = tables_.find(phys >> 12);
  if (t == tables_.end() || t->second.refs) return false;
  release_table(t->first);  // the write needs no watching, nor do the next ones
  return true;
}

void Shadow::release_table(uint32_t frame) {
  tables_.erase(frame);
  as_.set_page_flag(frame << 12, AddressSpace::kTable, false);
  stats_.tables_released++;
  protect_phys(frame << 12);  // writable again where the guest allows it
}

void Shadow::entry_changed(uint32_t entry_pa, bool written) {
  auto it = tables_.find(entry_pa >> 12);
  if (it == tables_.end()) return;
  stats_.entries_changed++;
  const uint32_t i = (entry_pa & 0xfff) >> 2;
  std::vector<uint32_t> victims;
  if (it->second.dir) {
    for (auto m = maps_.lower_bound(i << 22); m != maps_.end() && (m->first >> 22) == i; ++m)
      if (m->second.pde_pa == entry_pa) victims.push_back(m->first);
  }
  for (uint16_t slot : it->second.slots) {
    const uint32_t page = (uint32_t(slot) << 22) | (i << 12);
    auto m = maps_.find(page);
    if (m != maps_.end() && m->second.pte_pa == entry_pa) victims.push_back(page);
  }
  const std::vector<uint16_t> slots = it->second.slots;  // installs below may rehash tables_
  for (uint32_t page : victims) remove(page);
  stats_.table_drops += victims.size();
  if (!written) return;  // the new value is not there yet
  // Updated rather than dropped where the new entry gives an accessed user page (Linux sets A
  // in the entries it makes): the guest made it to be used, and the access would otherwise
  // cost a host fault. Only user pages, which survive the next entry to ring 3; the walk must
  // go through this very entry (the slot may belong to a global mapping of another directory).
  for (uint16_t slot : slots) {
    const uint32_t page = (uint32_t(slot) << 22) | (i << 12);
    if (maps_.count(page)) continue;
    auto t = peek_mappable(page, true);
    if (!t || t->pte_pa != entry_pa) continue;
    if (install(page, *t)) stats_.table_updates++;
  }
}

void Shadow::table_write_begin(uint32_t linear) {
  table_write_end();
  const uint32_t page = linear & kPageMask;
  auto m = maps_.find(page);
  // (A page held only by the direct-execution process is not in this window: no write here.)
  if (m == maps_.end() || m->second.elsewhere || !is_table(m->second.phys) ||
      release_if_idle(m->second.phys))
    return;
  const uint8_t* now = as_.phys(m->second.phys, 4096);
  open_ = OpenWrite{page, m->second.phys, std::vector<uint8_t>(now, now + 4096)};
  stats_.table_writes++;
  // Writable for the monitor's one instruction, not for ring 3: the direct-execution process
  // keeps the page's rights as they were (table_write_end gives them to both again).
  if (!as_.protect_page(page, PROT_READ | PROT_WRITE, Ring3::Denied)) {
    open_.reset();
    host_limit();  // the write faults again, on an empty window
  }
}

void Shadow::table_write_watched(uint32_t phys, unsigned bytes) {
  table_write_end();
  // An idle table stays traced here: the writer is a known page-table writer and its write
  // costs no host call, while releasing would cost one now and tracing again one more at the
  // next use. Linux's text_poke writes poking_mm's entry, switches to it, writes, clears the
  // entry and switches back, about 8000 times at boot (the SMP-alternatives unlocking): the
  // release and re-trace were two host calls of each. A table reused as data is written by
  // other instructions, which fault (table_write_begin) and release it.
  if (!is_table(phys) || !bytes) return;
  const uint32_t first = phys & ~3u, end = (phys + bytes + 3) & ~3u;  // whole entries
  const uint8_t* now = as_.phys(first, end - first);
  if (!now) return;
  open_ = OpenWrite{kNoPage, first, std::vector<uint8_t>(now, now + (end - first))};
  stats_.table_writes++;
}

void Shadow::table_write_end() {
  if (!open_) return;
  OpenWrite w = std::move(*open_);
  open_.reset();
  if (w.page != kNoPage) {
    auto m = maps_.find(w.page);
    if (m != maps_.end() && !reprotect(w.page, m->second)) host_limit();
  }
  const uint8_t* now = as_.phys(w.phys, uint32_t(w.before.size()));
  for (uint32_t off = 0; off < w.before.size(); off += 4)
    if (std::memcmp(now + off, w.before.data() + off, 4) != 0) entry_changed(w.phys + off, true);
}

void Shadow::note_write(uint32_t phys, unsigned len) {
  if (!len) return;
  for (uint64_t pa = phys & ~3u; pa < uint64_t(phys) + len; pa += 4)
    if (is_table(uint32_t(pa))) entry_changed(uint32_t(pa), false);
}

}  // namespace shadowmmu
