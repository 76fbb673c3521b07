// MMIO accesses from guest instructions (issue 10 item 5). Guest-physical pages without RAM
// are never mapped in the window, so the first access an instruction makes to one is a host
// fault; the monitor then learns the instruction (by the guest-physical address of its first
// byte) and has it translated again with its memory operand redirected (bt::WriteWatch): before
// it, `begin` checks every page of the operand through the guest's tables (a #PF comes first,
// before any device access), reads the operand into a scratch buffer if the instruction reads
// it (RAM parts from RAM, device parts from the device, split as hardware splits them); the
// instruction then runs on the host CPU on that buffer — so flags, registers and the result are
// the instruction's own — and `end` writes the buffer back if it writes its operand. Directly
// executed code that faults on such a page hands the instruction to the translator, which does
// the same. This is the classic VMM technique of running the one faulting instruction against
// the device; no other instruction is emulated.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>

#include "bt/engine.h"
#include "cpu/cpu.h"
#include "shadowmmu/address_space.h"
#include "shadowmmu/shadow.h"

namespace monitor {

class MmioAccesses {
 public:
  MmioAccesses(shadowmmu::AddressSpace& as, shadowmmu::Shadow& shadow, cpu::Memory& mem,
               const cpu::Vcpu& v)
      : as_(as), shadow_(shadow), mem_(mem), v_(v) {}

  // Whether the window cannot show guest-physical `pa`: no RAM there (a device or nothing),
  // or page 0 while the host refuses to map it (paging off).
  bool redirected(uint32_t pa) const {
    return !as_.phys(pa, 1) || (pa < 4096 && !v_.paging() && !as_.page0_mapped());
  }
  // The instruction at guest-physical `insn_pa` accessed such a page; false if it was known.
  bool learn(uint32_t insn_pa) {
    if (!insns_.insert(insn_pa).second) return false;
    ++stats_.instructions;
    return true;
  }
  bool knows(uint32_t insn_pa) const { return insns_.count(insn_pa) > 0; }
  bool none() const { return insns_.empty(); }

  // WriteWatch::begin for an operand of `bytes` at `linear` (kWatchRead/kWatchWrite in
  // `access`): a fault, or the scratch buffer; nullopt when every page of it is RAM the window
  // shows (then the access takes the caller's other paths).
  std::optional<bt::WatchedAccess> begin(uint32_t linear, unsigned bytes, unsigned access);
  // WriteWatch::end: the buffer goes back if the instruction writes its operand.
  void end();
  // The instruction faulted between begin and end (#DE from div): nothing is written.
  void abandon() { open_.reset(); }

  struct Stats {
    uint64_t instructions = 0;  // guest instructions redirected
    uint64_t accesses = 0;      // operand accesses carried out for them
  };
  const Stats& stats() const { return stats_; }

 private:
  cpu::Memory::Mode mode() const {
    return v_.cpl == 3 ? cpu::Memory::Mode::User : cpu::Memory::Mode::Supervisor;
  }
  struct Open {
    uint32_t linear;
    unsigned bytes;
    unsigned access;
  };
  shadowmmu::AddressSpace& as_;
  shadowmmu::Shadow& shadow_;
  cpu::Memory& mem_;
  const cpu::Vcpu& v_;
  std::unordered_set<uint32_t> insns_;
  std::optional<Open> open_;
  alignas(16) std::array<uint8_t, 16> scratch_{};
  Stats stats_;
};

}  // namespace monitor
