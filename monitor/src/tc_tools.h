// Options of the translation-cache research tools (issue 13): translation dumps, the perf map,
// machine-readable statistics. All off by default; a run without them pays nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace monitor {

struct TcToolsConfig {
  std::string dump_path;  // --dump-translations: a file, or a directory (a file per unit)
  std::optional<std::pair<uint32_t, uint32_t>> dump_range;  // [first, last] guest EIPs
  bool perf_map = false;                                    // /tmp/perf-PID.map
  std::string guest_symbols;                                // a System.map for perf names
  bool stats_json = false;                                  // --stats=json
  std::string stats_file;                                   // JSON to this file, not stderr
  double stats_interval = 0;  // seconds between snapshots (JSON lines); 0: none
  bool count_insns = false;   // per-unit entry counters
  unsigned hottest = 20;      // units listed in the JSON statistics
};

// A bad tool option or an output file that cannot be written: exit 2 before the guest starts.
struct OptionError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// "0x100000-0x1fffff" (or decimal): the inclusive range; nullopt if malformed.
std::optional<std::pair<uint32_t, uint32_t>> parse_range(const std::string& s);

}  // namespace monitor
