// What the unit observer is told about a unit just made: a copy of its guest bytes (they may
// change later), its host code and the places in it a listing marks.
#include "engine_core.h"

namespace bt {

void EngineCore::notify_unit(const Unit& u, std::vector<UnitRecord::Chain> chains) {
  UnitRecord r;
  r.serial = stats.units - 1;
  r.eip = u.eip;
  r.ninsns = u.ninsns;
  // Read as the translator did, a page at a time (the last instruction may cross a page).
  for (uint32_t at = u.eip; at < u.eip + u.guest_bytes;) {
    uint32_t avail = 0;
    const uint8_t* p = src.code(at, avail);
    if (!p || !avail) break;
    const uint32_t n = std::min(avail, u.eip + u.guest_bytes - at);
    r.guest.insert(r.guest.end(), p, p + n);
    at += n;
  }
  r.host = u.host;
  r.host_size = u.host_size;
  r.insns = u.insn_map;
  r.chains = std::move(chains);
  r.runtime = {{rt.exit_common, "exit_common"},
               {rt.leave, "leave"},
               {rt.callout, "callout"},
               {rt.lookup, "lookup"}};
  unit_observer(r);
}

}  // namespace bt
