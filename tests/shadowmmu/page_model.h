// A model of a window as the confined direct-execution process holds it, built by replaying
// window changes (window_sink.h): what each window page holds, a RAM offset and a protection.
// A protection of a page that holds nothing is an error, as it is for mprotect in the process.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "shadowmmu/window_sink.h"

namespace shadowmmu_test {

struct PageModel {
  static constexpr uint64_t kPage = 4096;
  struct Page {
    uint64_t ram_offset;
    int prot;
    bool operator==(const Page&) const = default;
  };
  std::map<uint64_t, Page> pages;
  int errors = 0;
  void apply(const shadowmmu::WindowChange& c) {
    using Kind = shadowmmu::WindowChange::Kind;
    for (uint64_t a = c.addr; a < c.end(); a += kPage) {
      switch (c.kind) {
        case Kind::Map:
          pages[a] = {c.ram_offset + (a - c.addr), c.prot};
          break;
        case Kind::Unmap:
          pages.erase(a);
          break;
        case Kind::Protect:
          if (auto it = pages.find(a); it != pages.end())
            it->second.prot = c.prot;
          else
            errors++;
          break;
      }
    }
  }
  void apply(const std::vector<shadowmmu::WindowChange>& v) {
    for (const auto& c : v) apply(c);
  }
};

// Single changes of whole pages (page numbers, not addresses), for tests.
inline shadowmmu::WindowChange map(uint64_t page, uint64_t n, uint64_t off, int prot) {
  return {shadowmmu::WindowChange::Kind::Map, prot, page * PageModel::kPage, n * PageModel::kPage,
          off * PageModel::kPage};
}
inline shadowmmu::WindowChange protect(uint64_t page, uint64_t n, int prot) {
  return {shadowmmu::WindowChange::Kind::Protect, prot, page * PageModel::kPage,
          n * PageModel::kPage, 0};
}
inline shadowmmu::WindowChange unmap(uint64_t page, uint64_t n) {
  return {shadowmmu::WindowChange::Kind::Unmap, 0, page * PageModel::kPage, n * PageModel::kPage,
          0};
}

}  // namespace shadowmmu_test
