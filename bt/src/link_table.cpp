#include "link_table.h"

namespace bt {

void LinkTable::chain(uint8_t* site, Unit* from, Unit* to, uint32_t page, uint32_t page2,
                      bool global) {
  Link l{site, 0, page, page2, global, from, to, kNoLink, to->links_in, kNoLink, from->links_out};
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
  const int32_t rel = int32_t(to->host - (site + 4));
  std::memcpy(site, &rel, 4);
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
}

}  // namespace bt
