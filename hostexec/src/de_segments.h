// Host selectors that mirror the guest's user segments for direct execution.
//
// Every guest segment gets an alias in the direct-execution process's LDT (modify_ldt in the
// stub, DeProcess::set_ldt), one slot per segment
// register, even a flat one the host GDT could serve (0x23/0x2b): a guest that loads a selector
// the host GDT accepts silently then changes the register's value, which the exit path sees
// (HOST-MECHANISMS §4). modify_ldt costs microseconds, so each slot remembers what it holds; an
// LDT costs nothing per trap.
#pragma once

#include <asm/ldt.h>

#include <cstdint>
#include <optional>

#include "cpu/vcpu.h"
#include "hostexec/de_process.h"

namespace hostexec::de {

using cpu::Seg;
using cpu::Segment;

inline constexpr uint16_t kHostData = 0x2b;    // __USER_DS
inline constexpr uint16_t kHostCode64 = 0x33;  // __USER_CS: the monitor's own code

class HostSegments {
 public:
  explicit HostSegments(DeProcess& p) : process_(p) {}
  // The host selector for guest segment register `s` holding `g`, or nullopt (with `why`) when
  // the host cannot mirror it. May write an LDT slot.
  std::optional<uint16_t> alias(Seg s, const Segment& g, const char** why);
  // Whether `g` could be mirrored, without touching the LDT.
  static bool mirrorable(Seg s, const Segment& g, const char** why);
  uint64_t ldt_writes() const { return ldt_writes_; }
  // The selector of the slot for `s` (its index in the LDT is s + 1).
  static uint16_t slot_selector(Seg s) { return uint16_t(((s + 1) << 3) | 7); }

 private:
  DeProcess& process_;
  user_desc slots_[6] = {};
  bool valid_[6] = {};
  uint64_t ldt_writes_ = 0;
};

}  // namespace hostexec::de
