// --tc key=value,...: the translation-cache policy, in QEMU's -accel tcg,... style (issue 13).
#pragma once

#include <optional>
#include <string>

#include "bt/engine.h"

namespace monitor {

// What --tc sets: the engine's options, and whether ring-3 code is translated too.
struct TcPolicy {
  bt::Options engine;
  std::optional<bool> translate_user;  // translate-user=on|off; on is --no-direct
};

// The help text for `bt86 run --help`.
extern const char* const kTcHelp;

// Parses `spec` into `policy` (keys not named keep their values); throws OptionError naming
// the key for an unknown key, a bad value, a key given twice or settings that contradict.
void parse_tc(const std::string& spec, TcPolicy& policy);

}  // namespace monitor
