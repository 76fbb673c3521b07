// What the unit observer is told about a unit just made: a copy of its guest bytes (they may
// change later), its host code and the places in it a listing marks.
#include "engine_core.h"

namespace bt {

void EngineCore::notify_unit(const Unit& u, std::vector<UnitRecord::Chain> chains) {
  UnitRecord r;
  r.serial = stats.units - 1;
  r.eip = u.eip;
  r.ninsns = u.ninsns;
  // Read and decoded as the translator did, one instruction at a time (it may cross a page;
  // a folded jump makes the next one start elsewhere).
  for (const auto& [off, eip] : u.insn_map) {
    Insn in;
    std::string err;
    const uint32_t len = decode(eip, in, err) ? in.d.length : 0;
    r.insn_lengths.push_back(len);
    r.guest.insert(r.guest.end(), in.bytes, in.bytes + len);
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
