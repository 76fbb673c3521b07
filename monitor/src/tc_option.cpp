#include "tc_option.h"

#include <fmt/format.h>

#include <bit>
#include <charconv>
#include <set>

#include "size_option.h"
#include "tc_tools.h"

namespace monitor {

const char* const kTcHelp =
    "translation-cache policy, KEY=VALUE,...: size=SIZE (cache bytes, K/M suffix; default 32M), "
    "evict=flush|fifo|generational (a full cache: flush it whole, default; evict the oldest "
    "units and undo the chains into them; or generational: a nursery FIFO whose units entered "
    "promote=N times (default 16) are made again in a persistent FIFO, after Hazelwood & "
    "Smith, MICRO 2003), unit-max=N (guest instructions per unit, 1-256; default 24), "
    "single-insn=on|off (one "
    "instruction per unit: unit-max=1), chain=on|off (link units by direct jumps; default on), "
    "loop-exits=on|off (translate a loop's exit with the loop; default on), "
    "superblocks=on|off (a unit goes on through direct jmp/call into their target, within "
    "unit-max and two pages; default off), "
    "jc=N (jump-cache entries for indirect branches, a power of two from 2 to 1048576; "
    "default 65536), "
    "ib=table|inline (indirect jmp/call/ret: probe the shared jump cache, default, or first "
    "compare with the site's last target, kept inline), "
    "translate-user=on|off (translate ring-3 code too: --no-direct)";

namespace {

// Largest unit cap: the unit's host code also stops at half of bt::kUnitReserve.
constexpr unsigned kMaxUnitCap = 256;
constexpr uint64_t kMaxCache = 1ull << 30;

[[noreturn]] void bad(const std::string& key, const std::string& value, const char* want) {
  throw OptionError(fmt::format("--tc {}={}: {}", key, value, want));
}

bool on_off(const std::string& key, const std::string& value) {
  if (value == "on") return true;
  if (value == "off") return false;
  bad(key, value, "use on or off");
}

unsigned unit_cap(const std::string& key, const std::string& value) {
  unsigned n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || end != value.data() + value.size() || n < 1 || n > kMaxUnitCap)
    bad(key, value, fmt::format("use a number of instructions from 1 to {}", kMaxUnitCap).c_str());
  return n;
}

uint32_t jump_cache_size(const std::string& key, const std::string& value) {
  uint32_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || end != value.data() + value.size() || !std::has_single_bit(n) ||
      n < bt::kMinJumpCache || n > bt::kMaxJumpCache)
    bad(key, value,
        fmt::format("use a power of two from {} to {}", bt::kMinJumpCache, bt::kMaxJumpCache)
            .c_str());
  if (!bt::jump_cache_size_supported(n))
    bad(key, value, "this host lacks BMI2, which sizes other than 256 and 65536 need");
  return n;
}

// Entries before promotion (evict=generational).
unsigned count(const std::string& key, const std::string& value) {
  unsigned n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || end != value.data() + value.size() || n < 1)
    bad(key, value, "use a number of entries from 1 to 4294967295");
  return n;
}

}  // namespace

void parse_tc(const std::string& spec, TcPolicy& policy) {
  std::set<std::string> seen;
  bool single = false;
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    if (comma == std::string::npos) comma = spec.size();
    const std::string item = spec.substr(pos, comma - pos);
    pos = comma + 1;
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw OptionError(fmt::format("--tc {}: use KEY=VALUE,... (see bt86 run --help)", item));
    const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    if (!seen.insert(key).second) throw OptionError(fmt::format("--tc: {} given twice", key));
    bt::Options& o = policy.engine;
    if (key == "size") {
      auto bytes = parse_size(value);
      if (!bytes || *bytes == 0 || *bytes > kMaxCache)
        bad(key, value, "use a size up to 1G, e.g. 8M");
      o.cache_bytes = size_t(*bytes);
    } else if (key == "unit-max") {
      o.max_unit_instructions = unit_cap(key, value);
    } else if (key == "single-insn") {
      single = on_off(key, value);
    } else if (key == "chain") {
      o.chaining = on_off(key, value);
    } else if (key == "evict") {
      if (value == "flush")
        o.evict = bt::Options::Evict::Flush;
      else if (value == "fifo")
        o.evict = bt::Options::Evict::Fifo;
      else if (value == "generational")
        o.evict = bt::Options::Evict::Generational;
      else
        bad(key, value, "use flush, fifo or generational");
    } else if (key == "promote") {
      o.promote_after = count(key, value);
    } else if (key == "loop-exits") {
      o.translate_loop_exits = on_off(key, value);
    } else if (key == "superblocks") {
      o.superblocks = on_off(key, value);
    } else if (key == "ib") {
      if (value != "table" && value != "inline") bad(key, value, "use table or inline");
      o.indirect = value == "inline" ? bt::Options::IndirectBranch::Inline
                                     : bt::Options::IndirectBranch::Table;
    } else if (key == "jc") {
      o.jump_cache_entries = jump_cache_size(key, value);
    } else if (key == "translate-user") {
      policy.translate_user = on_off(key, value);
    } else {
      throw OptionError(fmt::format(
          "--tc {}: unknown key (valid: size, evict, promote, unit-max, single-insn, chain, "
          "loop-exits, superblocks, jc, ib, translate-user)",
          key));
    }
  }
  if (seen.count("promote") && policy.engine.evict != bt::Options::Evict::Generational)
    throw OptionError("--tc: promote= needs evict=generational");
  if (single) {
    if (seen.count("unit-max") && policy.engine.max_unit_instructions != 1)
      throw OptionError("--tc: single-insn=on means unit-max=1");
    policy.engine.max_unit_instructions = 1;
  }
}

}  // namespace monitor
