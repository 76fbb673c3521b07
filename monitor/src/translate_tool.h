// `bt86 translate`: translates a file of raw 32-bit code placed at a guest address (ring 0,
// flat protected mode, paging off) and prints every unit made, with no guest to boot.
#pragma once

#include <cstdint>
#include <string>

namespace monitor {

struct TranslateArgs {
  std::string file;
  uint32_t at = 0;
  bool absolute = false;  // print host addresses (default: offsets, the same in every run)
  std::string tc;         // --tc: the engine's settings (the cache-policy ones matter little here)
};

// Prints the listing to stdout; returns the process exit status (2 for an unreadable file).
int translate_tool(const TranslateArgs& args);

}  // namespace monitor
