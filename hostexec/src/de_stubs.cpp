#include "de_stubs.h"

#include <algorithm>

namespace hostexec::de {

DeStub::DeStub(int ram_fd, bool approve_maps, const uint16_t* pending)
    : process(ram_fd, approve_maps), space(DeStubs::kNoSpace), last_used(0) {
  process.set_pending_word(pending);
}

DeStubs::DeStubs(int ram_fd, bool approve_maps, const uint16_t* pending)
    : ram_fd_(ram_fd), approve_maps_(approve_maps), pending_(pending) {
  stubs_.push_back(std::make_unique<DeStub>(ram_fd, approve_maps, pending));
  current_ = stubs_.back().get();
  label(*current_, kNoPaging);
}

void DeStubs::label(DeStub& s, uint32_t space) {
  // One process per space: another that held it no longer does (its window is another's now).
  for (auto& other : stubs_)
    if (other.get() != &s && other->space == space) other->space = kNoSpace;
  s.space = space;
  s.last_used = ++clock_;
}

void DeStubs::relabel(uint32_t space) {
  label(*current_, space);
}

DeStub& DeStubs::choose(uint32_t space) {
  auto it =
      std::find_if(stubs_.begin(), stubs_.end(), [&](const auto& s) { return s->space == space; });
  if (it != stubs_.end()) {
    current_ = it->get();
  } else if (stubs_.size() < kMax) {
    stubs_.push_back(std::make_unique<DeStub>(ram_fd_, approve_maps_, pending_));
    current_ = stubs_.back().get();
  } else {
    current_ = std::min_element(stubs_.begin(), stubs_.end(), [](const auto& a, const auto& b) {
                 return a->last_used < b->last_used;
               })->get();
    taken_over_++;
  }
  label(*current_, space);
  return *current_;
}

uint64_t DeStubs::ldt_writes() const {
  uint64_t n = 0;
  for (const auto& s : stubs_) n += s->segs.ldt_writes();
  return n;
}

}  // namespace hostexec::de
