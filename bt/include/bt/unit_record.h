// What the engine reports about each translation unit it makes, for tools outside it: the
// translation dump, `bt86 translate`, the perf map. Made only when an observer is installed
// (Engine::set_unit_observer), so a run without those tools pays nothing for it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace bt {

struct UnitRecord {
  uint64_t serial = 0;  // the n-th unit this engine made (0-based)
  uint32_t eip = 0;     // linear EIP of the first guest instruction
  uint32_t ninsns = 0;
  // The guest code bytes it was made from, instruction after instruction (with superblocks a
  // unit's instructions need not be adjacent in guest memory).
  std::vector<uint8_t> guest;
  const uint8_t* host = nullptr;
  uint32_t host_size = 0;
  // Host offset of each guest instruction's code, with its EIP.
  std::vector<std::pair<uint32_t, uint32_t>> insns;
  // The length of each of those guest instructions in `guest` (0: its fetch or decode failed).
  std::vector<uint32_t> insn_lengths;
  // Direct-branch sites: the offset of the patchable rel32, the exit stub it jumps to until
  // it is chained, and the guest EIP it leads to.
  struct Chain {
    uint32_t site = 0, stub = 0, target = 0;
  };
  std::vector<Chain> chains;
  // Entry points of the runtime glue that translated code jumps to (exit_common, callout,
  // lookup, leave), so a listing can name them.
  std::vector<std::pair<const uint8_t*, std::string>> runtime;
};

// A readable listing of one unit: guest bytes with their disassembly, then the host code with
// each guest instruction's start, the chain sites and the exits to the runtime marked. With
// `stable`, host addresses are printed as offsets from the unit and 64-bit host pointers in
// immediates are masked, so that the listing is the same in every run (golden tests).
std::string format_unit(const UnitRecord& u, bool stable);

}  // namespace bt
