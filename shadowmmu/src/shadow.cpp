#include "shadowmmu/shadow.h"

#include <fmt/format.h>
#include <sys/mman.h>

namespace shadowmmu {

std::string Shadow::Stats::report() const {
  return fmt::format(
      "shadow MMU\n  hidden faults {}\n  true faults (guest #PF) {}\n  pages mapped {}\n  "
      "whole-shadow drops {} (CR3 writes {}, ring-3 entries {})\n  invlpg drops {}\n",
      hidden_faults, true_faults, pages_mapped, drops_all, cr3_switches, user_entries, drops_page);
}

std::variant<Translation, uint32_t> Shadow::translate(uint32_t linear, bool write, bool user) {
  return walk({as_.physmap(), as_.ram_size()}, v_.cr0, v_.cr3, v_.cr4, linear, {write, user});
}

std::optional<uint32_t> Shadow::phys_of(uint32_t linear, bool write, bool user) {
  if (!v_.paging()) return linear;
  auto r = translate(linear, write, user);
  if (auto* t = std::get_if<Translation>(&r)) return t->phys;
  return std::nullopt;
}

Shadow::Fill Shadow::fill(uint32_t linear, bool write, bool user) {
  auto r = translate(linear, write, user);
  if (auto* err = std::get_if<uint32_t>(&r)) {
    stats_.true_faults++;
    return {Outcome::GuestFault, *err};
  }
  const Translation& t = std::get<Translation>(r);
  if (uint64_t(t.phys & ~0xfffu) + 4096 > as_.ram_size()) return {Outcome::NoRam};
  // Read-only until the guest entry is dirty, so the first write sets D through a fault.
  // Translated code and directly executed code stay read-only, so writes to them are seen.
  const uint8_t flags = as_.page_flags(t.phys);
  const bool keep_ro = flags & (AddressSpace::kTraced | AddressSpace::kDirect);
  const int prot = PROT_READ | (t.writable && t.dirty && !keep_ro ? PROT_WRITE : 0) |
                   (flags & AddressSpace::kDirect ? PROT_EXEC : 0);
  as_.map_page(linear, t.phys, prot);
  mapped_.push_back(linear & ~0xfffu);  // a page refilled twice is unmapped twice: harmless
  mapped_any_ = true;
  stats_.hidden_faults++;
  stats_.pages_mapped++;
  return {Outcome::Mapped, 0, t.phys};
}

void Shadow::drop_all() {
  stats_.drops_all++;
  // Unmapping what was mapped, page by page, is far cheaper than replacing the whole 4 GiB
  // window while the shadow is small; past a few thousand pages one call wins.
  if (mapped_.size() > kBulkDrop) {
    as_.unmap_window();
  } else {
    for (uint32_t page : mapped_) as_.unmap_page(page);
  }
  mapped_.clear();
  mapped_any_ = false;
}

void Shadow::reset() {
  stats_.drops_all++;
  as_.unmap_window();
  mapped_.clear();
  mapped_any_ = false;
}

void Shadow::drop_page(uint32_t linear) {
  stats_.drops_page++;
  as_.unmap_page(linear);
}

}  // namespace shadowmmu
