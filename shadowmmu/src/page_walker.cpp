#include "shadowmmu/page_walker.h"

#include <cstring>

#include "cpu/vcpu.h"

namespace shadowmmu {

namespace {
constexpr uint32_t kP = 1, kRW = 2, kUS = 4, kA = 0x20, kD = 0x40, kPS = 0x80, kG = 0x100;

bool in_ram(PhysRam ram, uint32_t pa) {
  return uint64_t(pa) + 4 <= ram.size;
}

// Entries outside RAM come from the MMIO bus (all ones where nothing is: present, writable,
// user, and with CR4.PSE a 4 MiB page at 0xffc00000), as on a PC.
uint32_t load(PhysRam ram, uint32_t pa) {
  uint32_t v;
  if (!in_ram(ram, pa)) {
    mmio_read(ram.mmio, pa, reinterpret_cast<uint8_t*>(&v), 4);
    return v;
  }
  std::memcpy(&v, ram.base + pa, 4);
  return v;
}

void store(PhysRam ram, uint32_t pa, uint32_t v) {
  if (in_ram(ram, pa))
    std::memcpy(ram.base + pa, &v, 4);
  else
    mmio_write(ram.mmio, pa, reinterpret_cast<const uint8_t*>(&v), 4);
}

// Update: as the CPU (A/D set); Peek: give up (pf::P) where the CPU would set an A or D bit;
// Inspect: leave A/D alone and translate anyway.
enum class Mode { Update, Peek, Inspect };

std::variant<Translation, uint32_t> walk_tables(PhysRam ram, uint32_t cr0, uint32_t cr3,
                                                uint32_t cr4, uint32_t linear, Access acc,
                                                Mode mode) {
  const uint32_t code = (acc.write ? pf::W : 0) | (acc.user ? pf::U : 0);
  const uint32_t pde_pa = (cr3 & 0xfffff000u) | ((linear >> 22) << 2);
  // No device access ahead of time (peek) or for a report (inspect).
  if (mode != Mode::Update && !in_ram(ram, pde_pa)) return code | pf::P;
  uint32_t pde = load(ram, pde_pa);
  if (!(pde & kP)) return code;
  const bool large = (cr4 & cpu::cr4::PSE) && (pde & kPS);
  uint32_t pte_pa = 0, pte = 0;
  if (!large) {
    pte_pa = (pde & 0xfffff000u) | (((linear >> 12) & 0x3ff) << 2);
    if (mode != Mode::Update && !in_ram(ram, pte_pa)) return code | pf::P;
    pte = load(ram, pte_pa);
    if (!(pte & kP)) return code;
  }
  const uint32_t leaf = large ? pde : pte;  // before this walk's A/D updates
  // Both levels must allow it (SDM §4.6): U/S and R/W combine by AND.
  const bool user_ok = (pde & kUS) && (leaf & kUS);
  const bool rw = (pde & kRW) && (leaf & kRW);
  if (acc.user && !user_ok) return code | pf::P;
  const bool write_ok = rw || (!acc.user && !(cr0 & cpu::cr0::WP));
  if (acc.write && !write_ok) return code | pf::P;

  const bool pde_update = !(pde & kA) || (large && acc.write && !(pde & kD));
  const bool pte_update = !large && (!(pte & kA) || (acc.write && !(pte & kD)));
  if (mode == Mode::Peek && (pde_update || pte_update)) return code | pf::P;
  if (pde_update && mode == Mode::Update) {
    pde |= kA | (large && acc.write ? kD : 0);
    store(ram, pde_pa, pde);
  }
  if (pte_update && mode == Mode::Update) {
    pte |= kA | (acc.write ? kD : 0);
    store(ram, pte_pa, pte);
  }
  Translation t;
  t.large = large;
  t.phys =
      large ? (pde & 0xffc00000u) | (linear & 0x3fffff) : (pte & 0xfffff000u) | (linear & 0xfff);
  t.user = user_ok;
  t.writable = acc.user ? rw : write_ok;
  t.global = (cr4 & cpu::cr4::PGE) && (leaf & kG);
  t.dirty = (large ? pde : pte) & kD;
  t.user_writable = user_ok && rw;
  t.pde_pa = pde_pa;
  if (!large) t.pte_pa = pte_pa;
  return t;
}
}  // namespace

std::variant<Translation, uint32_t> walk(PhysRam ram, uint32_t cr0, uint32_t cr3, uint32_t cr4,
                                         uint32_t linear, Access acc) {
  return walk_tables(ram, cr0, cr3, cr4, linear, acc, Mode::Update);
}

std::optional<Translation> peek(PhysRam ram, uint32_t cr0, uint32_t cr3, uint32_t cr4,
                                uint32_t linear, Access acc) {
  auto r = walk_tables(ram, cr0, cr3, cr4, linear, acc, Mode::Peek);
  if (auto* t = std::get_if<Translation>(&r)) return *t;
  return std::nullopt;
}

std::optional<uint32_t> inspect(PhysRam ram, uint32_t cr0, uint32_t cr3, uint32_t cr4,
                                uint32_t linear) {
  auto r = walk_tables(ram, cr0, cr3, cr4, linear, Access{}, Mode::Inspect);
  if (auto* t = std::get_if<Translation>(&r)) return t->phys;
  return std::nullopt;
}

}  // namespace shadowmmu
