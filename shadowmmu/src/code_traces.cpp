#include "shadowmmu/code_traces.h"

#include <fmt/format.h>

namespace shadowmmu {

std::string CodeTraces::Stats::report() const {
  return fmt::format("code traces\n  pages traced {}\n  writes to traced code {}\n", pages_traced,
                     code_writes);
}

void CodeTraces::note_translated(uint32_t phys) {
  if (traced(phys)) return;
  as_.set_page_flag(phys, AddressSpace::kTraced, true);
  stats_.pages_traced++;
  if (v_.paging()) {
    shadow_.protect_phys(phys);
  } else {
    as_.apply_identity_prot(phys);
  }
}

bool CodeTraces::on_write(uint32_t phys) {
  if (!traced(phys)) return false;
  as_.set_page_flag(phys, AddressSpace::kTraced, false);
  stats_.code_writes++;
  written_.push_back(phys >> 12);
  if (v_.paging()) {
    shadow_.protect_phys(phys);
  } else {
    as_.apply_identity_prot(phys);
  }
  return true;
}

}  // namespace shadowmmu
