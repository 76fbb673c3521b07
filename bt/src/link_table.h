// The chains between translation units (a direct branch patched to jump straight into another
// unit), kept on each unit's incoming and outgoing lists as QEMU's tb-maint keeps jmp_list:
// when a unit dies (evicted, its code written, flushed) exactly the chains into it are undone,
// found through its own list, and the chains out of it go with its code, without a scan.
#pragma once

#include <cstdint>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "code_cache.h"

namespace bt {

struct Link {
  uint8_t* site;         // a patched rel32 in `from`
  int32_t stub_rel32;    // what it held before: the jump to its exit stub
  uint32_t page, page2;  // the linear pages of the target's code (for unlink_page)
  bool global;           // ... which the guest maps global (they survive CR3 writes)
  Unit* from;
  Unit* to;
  // The neighbours on to->links_in and from->links_out (indices, kNoLink at the ends).
  uint32_t prev_in, next_in, prev_out, next_out;
  // ... on the lists of `page` ([0]) and of `page2` ([1], only if it differs), and on the list
  // of links that are not global.
  uint32_t prev_pg[2], next_pg[2], prev_ng, next_ng;
};

class LinkTable {
 public:
  // Patches `site` (in `from`) to jump to `to`'s entry, and records the link on both lists.
  void chain(uint8_t* site, Unit* from, Unit* to, uint32_t page, uint32_t page2, bool global);
  // Undoes every chain into `u` (back to their exit stubs); returns how many.
  size_t undo_into(Unit& u);
  // Forgets the chains out of `u` without touching its code (which is dying with it).
  void drop_out_of(Unit& u);
  // Undoes every chain into code on linear page `page` (invlpg) / every chain not global (a
  // CR3 write): through lists of their own, not a scan (Linux makes ~16k CR3 writes and ~70k
  // invlpgs while it boots; scanning every link cost 22 us per CR3 write). Return how many.
  size_t undo_page(uint32_t page);
  size_t undo_nonglobal();
  // Undoes every chain `pred(const Link&)` picks (a scan).
  template <class Pred>
  size_t undo_if(Pred pred) {
    size_t n = 0;
    for (uint32_t i = 0; i < links_.size(); ++i)
      if (links_[i].site && pred(links_[i])) {
        undo(i);
        n++;
      }
    return n;
  }
  // Every unit is gone (a flush): forgets every link.
  void clear();
  size_t size() const { return links_.size() - free_.size(); }
  // Visits the live links (tests, checks).
  template <class F>
  void for_each(F f) const {
    for (const Link& l : links_)
      if (l.site) f(l);
  }

 private:
  void undo(uint32_t i);    // restores the stub and removes the link
  void remove(uint32_t i);  // removes it from every list and frees its slot
  // Which of link i's page slots puts it on `page`'s list.
  int page_slot(uint32_t i, uint32_t page) const { return links_[i].page == page ? 0 : 1; }
  void add_to_page(uint32_t i, int slot, uint32_t page);
  void remove_from_page(uint32_t i, int slot, uint32_t page);
  std::vector<Link> links_;  // slots; a free one has site == nullptr
  std::vector<uint32_t> free_;
  std::unordered_map<uint32_t, uint32_t> page_heads_;  // linear page -> first link on its list
  uint32_t nonglobal_head_ = kNoLink;
};

}  // namespace bt
