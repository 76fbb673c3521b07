// The guest's page-table walk as a Pentium Pro/II does it without PAE (SDM Vol. 3 §4.3):
// two levels, 4 KiB pages and, with CR4.PSE, 4 MiB pages; P, R/W, U/S checks with CR0.WP for
// supervisor writes; the accessed and dirty bits set in guest memory as the CPU sets them.
// Both the shadow (host faults) and the monitor's own guest accesses use it.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>

#include "shadowmmu/mmio.h"

namespace shadowmmu {

struct Access {
  bool write = false;
  bool user = false;  // CPL 3 (implicit supervisor accesses such as descriptor reads are not)
};

struct Translation {
  uint32_t phys = 0;           // the guest-physical address of the byte
  bool writable = false;       // a write with the same privilege would pass
  bool user = false;           // user accesses pass
  bool global = false;         // G in the final entry, with CR4.PGE
  bool dirty = false;          // D in the final entry (after this access)
  bool large = false;          // a 4 MiB page
  bool user_writable = false;  // user writes pass (whatever the access's privilege)
  // Where the walk read it from: the page-table traces follow these entries.
  uint32_t pde_pa = 0;
  uint32_t pte_pa = kNoPte;  // kNoPte for a 4 MiB page
  static constexpr uint32_t kNoPte = ~0u;
};

// #PF error code bits (no PAE: no fetch bit).
namespace pf {
inline constexpr uint32_t P = 1, W = 2, U = 4;
}

// Guest-physical memory for the walk: RAM at [0, size); entries elsewhere come from `mmio`
// (nullptr: all ones, as an empty PC bus reads). A peek never reads outside RAM.
struct PhysRam {
  uint8_t* base;
  uint64_t size;
  MmioHandler* mmio = nullptr;
};

// Translates `linear`; on a violation returns the #PF error code and changes nothing.
std::variant<Translation, uint32_t> walk(PhysRam ram, uint32_t cr0, uint32_t cr3, uint32_t cr4,
                                         uint32_t linear, Access acc);
// The translation a walk would give if it changes nothing in guest memory (the entries are
// already accessed, and dirty for a write); nullopt if it would fault or set an A/D bit.
std::optional<Translation> peek(PhysRam ram, uint32_t cr0, uint32_t cr3, uint32_t cr4,
                                uint32_t linear, Access acc);
// For reports and tools: the guest-physical address a supervisor read of `linear` would reach,
// whatever its A bits; nothing in guest memory changes. nullopt if it would fault.
std::optional<uint32_t> inspect(PhysRam ram, uint32_t cr0, uint32_t cr3, uint32_t cr4,
                                uint32_t linear);

}  // namespace shadowmmu
