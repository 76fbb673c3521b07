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
  by_age_.push_back(n);
  by_address_.emplace(n->host, n);
  return n;
}

std::unique_ptr<Unit> CodeCache::evict_oldest() {
  std::unique_ptr<Unit> u(by_age_.front());
  by_age_.pop_front();
  by_address_.erase(u->host);
  live_bytes_ -= u->host_size;
  auto it = units_.find(u->key);
  if (it != units_.end() && it->second == u.get()) units_.erase(it);
  return u;
}

const Unit* CodeCache::unit_at(const void* p) const {
  auto a = static_cast<const uint8_t*>(p);
  auto it = by_address_.upper_bound(a);
  if (it == by_address_.begin()) return nullptr;
  const Unit* u = std::prev(it)->second;
  return a < u->host + u->host_size ? u : nullptr;
}

void CodeCache::flush() {
  for (Unit* u : by_age_) delete u;
  by_age_.clear();
  by_address_.clear();
  live_bytes_ = 0;
  units_.clear();
  by_frame_.clear();
  used_ = runtime_end_;
}

size_t CodeCache::forget_frame(uint32_t frame) {
  auto it = by_frame_.find(frame);
  if (it == by_frame_.end()) return 0;
  size_t n = 0;
  for (uint64_t key : it->second) n += units_.erase(key);
  by_frame_.erase(it);
  return n;
}

}  // namespace bt
