#include "link_table.h"

namespace bt {

void LinkTable::chain(uint8_t* site, Unit* from, Unit* to, uint32_t page, uint32_t page2,
                      bool global) {
  Link l{.site = site,
         .stub_rel32 = 0,
         .page = page,
         .page2 = page2,
         .global = global,
         .from = from,
         .to = to,
         .prev_in = kNoLink,
         .next_in = to->links_in,
         .prev_out = kNoLink,
         .next_out = from->links_out,
         .prev_pg = {kNoLink, kNoLink},
         .next_pg = {kNoLink, kNoLink},
         .prev_ng = kNoLink,
         .next_ng = kNoLink};
  std::memcpy(&l.stub_rel32, site, 4);
  uint32_t i;
  if (free_.empty()) {
    i = uint32_t(links_.size());
    links_.push_back(l);
  } else {
    i = free_.back();
    free_.pop_back();
    links_[i] = l;
  }
  if (l.next_in != kNoLink) links_[l.next_in].prev_in = i;
  if (l.next_out != kNoLink) links_[l.next_out].prev_out = i;
  to->links_in = from->links_out = i;
  add_to_page(i, 0, page);
  if (page2 != page) add_to_page(i, 1, page2);
  if (!global) {
    links_[i].next_ng = nonglobal_head_;
    if (nonglobal_head_ != kNoLink) links_[nonglobal_head_].prev_ng = i;
    nonglobal_head_ = i;
  }
  const int32_t rel = int32_t(to->host - (site + 4));
  std::memcpy(site, &rel, 4);
}

void LinkTable::add_to_page(uint32_t i, int slot, uint32_t page) {
  auto [head, fresh] = page_heads_.try_emplace(page, kNoLink);
  Link& l = links_[i];
  l.prev_pg[slot] = kNoLink;
  l.next_pg[slot] = head->second;
  if (head->second != kNoLink) {
    const uint32_t n = head->second;
    links_[n].prev_pg[page_slot(n, page)] = i;
  }
  head->second = i;
}

void LinkTable::remove_from_page(uint32_t i, int slot, uint32_t page) {
  const Link& l = links_[i];
  const uint32_t prev = l.prev_pg[slot], next = l.next_pg[slot];
  if (prev != kNoLink) {
    links_[prev].next_pg[page_slot(prev, page)] = next;
  } else if (next != kNoLink) {
    page_heads_[page] = next;
  } else {
    page_heads_.erase(page);
  }
  if (next != kNoLink) links_[next].prev_pg[page_slot(next, page)] = prev;
}

size_t LinkTable::undo_page(uint32_t page) {
  auto head = page_heads_.find(page);
  if (head == page_heads_.end()) return 0;
  size_t n = 0;
  for (uint32_t i = head->second; i != kNoLink;) {
    const uint32_t next = links_[i].next_pg[page_slot(i, page)];
    undo(i);  // takes i off this list (and may erase its head): next was read before
    i = next;
    n++;
  }
  return n;
}

size_t LinkTable::undo_nonglobal() {
  size_t n = 0;
  while (nonglobal_head_ != kNoLink) {
    undo(nonglobal_head_);
    n++;
  }
  return n;
}

void LinkTable::undo(uint32_t i) {
  std::memcpy(links_[i].site, &links_[i].stub_rel32, 4);
  remove(i);
}

void LinkTable::remove(uint32_t i) {
  Link& l = links_[i];
  if (l.prev_in != kNoLink)
    links_[l.prev_in].next_in = l.next_in;
  else
    l.to->links_in = l.next_in;
  if (l.next_in != kNoLink) links_[l.next_in].prev_in = l.prev_in;
  if (l.prev_out != kNoLink)
    links_[l.prev_out].next_out = l.next_out;
  else
    l.from->links_out = l.next_out;
  if (l.next_out != kNoLink) links_[l.next_out].prev_out = l.prev_out;
  remove_from_page(i, 0, l.page);
  if (l.page2 != l.page) remove_from_page(i, 1, l.page2);
  if (!l.global) {
    if (l.prev_ng != kNoLink)
      links_[l.prev_ng].next_ng = l.next_ng;
    else
      nonglobal_head_ = l.next_ng;
    if (l.next_ng != kNoLink) links_[l.next_ng].prev_ng = l.prev_ng;
  }
  l.site = nullptr;
  free_.push_back(i);
}

size_t LinkTable::undo_into(Unit& u) {
  size_t n = 0;
  while (u.links_in != kNoLink) {
    undo(u.links_in);
    n++;
  }
  return n;
}

void LinkTable::drop_out_of(Unit& u) {
  while (u.links_out != kNoLink) remove(u.links_out);
}

void LinkTable::clear() {
  for (Link& l : links_)
    if (l.site) l.from->links_in = l.from->links_out = l.to->links_in = l.to->links_out = kNoLink;
  links_.clear();
  free_.clear();
  page_heads_.clear();
  nonglobal_head_ = kNoLink;
}

}  // namespace bt
