// Traces on guest pages that hold translated code (DESIGN §6): once the translator has read
// code from a guest-physical page, every window mapping of that page is read-only, so a guest
// write to it — self-modifying code, or new code loaded over old — faults and is seen. The
// monitor then drops the page's trace, invalidates the translations made from that frame, and
// runs the writing instruction alone, untraced, before translating again (it may write the
// very code that follows it).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "shadowmmu/address_space.h"
#include "shadowmmu/shadow.h"

namespace shadowmmu {

class CodeTraces {
 public:
  CodeTraces(AddressSpace& as, Shadow& shadow, const cpu::Vcpu& v)
      : as_(as), shadow_(shadow), v_(v) {}

  struct Stats {
    uint64_t pages_traced = 0;
    uint64_t code_writes = 0;  // trace hits: writes to pages with translations
    std::string report() const;
  };

  // The translator read code from guest-physical `phys`.
  void note_translated(uint32_t phys);
  bool traced(uint32_t phys) const { return as_.page_flags(phys) & AddressSpace::kTraced; }
  // A write reached a traced page (a fault, or the monitor's own write): the trace goes.
  // Returns whether the page was traced (the caller must then invalidate translations).
  bool on_write(uint32_t phys);
  const Stats& stats() const { return stats_; }
  // The frames written since the last call: their translations must go.
  std::vector<uint32_t> take_written() { return std::exchange(written_, {}); }

 private:
  std::vector<uint32_t> written_;
  AddressSpace& as_;
  Shadow& shadow_;
  const cpu::Vcpu& v_;
  Stats stats_;
};

}  // namespace shadowmmu
