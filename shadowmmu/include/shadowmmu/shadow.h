// The shadow of the guest's page tables (DESIGN §6): with guest paging on, window address X
// holds the guest-physical page the guest's tables map X to, installed lazily when a host fault
// at X shows the guest allows the access ("hidden" faults); an access the guest does not allow
// becomes a guest #PF ("true" faults). Pages whose guest entry is not dirty are mapped
// read-only, so the first write comes back to set D.
//
// Not yet (issue 4 goes on): traces on page-table and code pages, per-address-space shadows,
// global pages surviving CR3 writes. Coherence comes from dropping the shadow: everything on a
// CR3 write or a paging-mode change, the page on invlpg, and everything when the guest enters
// ring 3 (pages mapped for ring 0 may be supervisor-only or writable only under CR0.WP = 0).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cpu/vcpu.h"
#include "shadowmmu/address_space.h"
#include "shadowmmu/page_walker.h"

namespace shadowmmu {

class Shadow {
 public:
  Shadow(AddressSpace& as, const cpu::Vcpu& v) : as_(as), v_(v) {}

  struct Stats {
    uint64_t hidden_faults = 0;  // filled silently
    uint64_t true_faults = 0;    // became a guest #PF
    uint64_t pages_mapped = 0;
    uint64_t drops_all = 0;   // whole-shadow drops
    uint64_t drops_page = 0;  // invlpg
    uint64_t cr3_switches = 0;
    uint64_t user_entries = 0;  // drops because ring 3 was entered
    std::string report() const;
  };

  enum class Outcome { Mapped, GuestFault, NoRam };
  struct Fill {
    Outcome outcome;
    uint32_t error = 0;  // GuestFault: the #PF error code
    uint32_t phys = 0;   // Mapped: the guest-physical address
  };
  // A host fault at window address `linear` (a write or not) from code at `user` privilege.
  Fill fill(uint32_t linear, bool write, bool user);

  // The guest's translation of `linear` without installing anything (monitor accesses, code
  // fetches); the walk still sets A/D as the CPU would.
  std::variant<Translation, uint32_t> translate(uint32_t linear, bool write, bool user);
  // The guest-physical address of `linear` for that access: itself with paging off, nullopt
  // where the guest would fault.
  std::optional<uint32_t> phys_of(uint32_t linear, bool write, bool user);

  void drop_all();
  // Empties the whole window, whatever is in it (paging turned on over the identity map).
  void reset();
  void drop_page(uint32_t linear);
  void cr3_written() {
    stats_.cr3_switches++;
    drop_all();
  }
  // Ring 3 is about to run: what ring 0 had mapped must go.
  void entering_user() {
    if (!mapped_any_) return;
    stats_.user_entries++;
    drop_all();
  }
  const Stats& stats() const { return stats_; }

 private:
  AddressSpace& as_;
  const cpu::Vcpu& v_;
  static constexpr size_t kBulkDrop = 4096;
  bool mapped_any_ = false;
  std::vector<uint32_t> mapped_;  // window pages filled since the last drop
  Stats stats_;
};

}  // namespace shadowmmu
