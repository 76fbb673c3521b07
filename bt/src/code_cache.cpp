#include "code_cache.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace bt {

CodeCache::CodeCache(size_t bytes) : size_(bytes) {
  // RWX: units are assembled in place and patched when chained. The region is above 4 GiB
  // (the low 8 GiB are reserved for the guest), so guest code cannot address it.
  void* p =
      mmap(nullptr, bytes, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    throw std::runtime_error(std::string("cannot map the translation cache: ") +
                             std::strerror(errno));
  base_ = static_cast<uint8_t*>(p);
  if (reinterpret_cast<uintptr_t>(base_) < (8ull << 30)) {
    munmap(base_, bytes);
    throw std::runtime_error("the translation cache landed below 8 GiB, inside guest reach");
  }
}

CodeCache::~CodeCache() {
  flush();
  munmap(base_, size_);
}

Unit* CodeCache::insert(uint64_t key, Unit u) {
  Unit* n = new Unit(std::move(u));
  n->key = key;
  live_bytes_ += n->host_size;
  units_[key] = n;
  ring().by_age.push_back(n);
  ring().live += n->host_size;
  by_address_.emplace(n->host, n);
  by_frame_[n->frame].push_back(n);
  if (n->frame2 != Unit::kNoFrame && n->frame2 != n->frame) by_frame_[n->frame2].push_back(n);
  return n;
}

std::unique_ptr<Unit> CodeCache::evict_oldest() {
  std::unique_ptr<Unit> u(ring().by_age.front());
  ring().by_age.pop_front();
  ring().live -= u->host_size;
  by_address_.erase(u->host);
  live_bytes_ -= u->host_size;
  auto it = units_.find(u->key);
  if (it != units_.end() && it->second == u.get()) units_.erase(it);
  if (!u->dead) {
    unindex(u.get(), u->frame);
    if (u->frame2 != Unit::kNoFrame) unindex(u.get(), u->frame2);
  }
  return u;
}

void CodeCache::unindex(Unit* u, uint32_t frame) {
  auto it = by_frame_.find(frame);
  if (it == by_frame_.end()) return;
  if (it->second.front() == u)  // the usual case: units die oldest first
    it->second.pop_front();
  else
    std::erase(it->second, u);
  if (it->second.empty()) by_frame_.erase(it);
}

Unit* CodeCache::unit_at(const void* p) const {
  auto a = static_cast<const uint8_t*>(p);
  auto it = by_address_.upper_bound(a);
  if (it == by_address_.begin()) return nullptr;
  Unit* u = std::prev(it)->second;
  return a < u->host + u->host_size ? u : nullptr;
}

void CodeCache::flush() {
  for (Ring& r : rings_) {
    for (Unit* u : r.by_age) delete u;
    r.by_age.clear();
    r.used = r.begin;
    r.live = 0;
  }
  by_address_.clear();
  live_bytes_ = 0;
  units_.clear();
  by_frame_.clear();
}

std::vector<Unit*> CodeCache::forget_frame(uint32_t frame) {
  auto it = by_frame_.find(frame);
  if (it == by_frame_.end()) return {};
  std::vector<Unit*> gone(it->second.begin(), it->second.end());
  by_frame_.erase(it);
  for (Unit* u : gone) {
    u->dead = true;
    auto k = units_.find(u->key);
    if (k != units_.end() && k->second == u) units_.erase(k);
    // A unit whose code spans two frames is listed under the other one too.
    const uint32_t other = u->frame == frame ? u->frame2 : u->frame;
    if (other != Unit::kNoFrame && other != frame) unindex(u, other);
  }
  return gone;
}

}  // namespace bt
