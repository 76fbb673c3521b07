#include "guest_symbols.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "tc_tools.h"

namespace monitor {

namespace {
constexpr uint32_t kPageOffset = 0xc0000000;  // CONFIG_PAGE_OFFSET of a 3G/1G split
}  // namespace

GuestSymbols::GuestSymbols(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw OptionError(fmt::format("--guest-symbols {}: cannot open it", path));
  std::string line;
  std::optional<uint32_t> startup_32, phys_startup_32;
  for (unsigned n = 1; std::getline(f, line); ++n) {
    std::istringstream in(line);
    std::string addr, type, name;
    if (!(in >> addr >> type >> name) || type.size() != 1 ||
        addr.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos || addr.size() > 16)
      throw OptionError(fmt::format(
          "--guest-symbols {}: line {} is not \"address type name\" (a System.map)", path, n));
    const auto at = uint32_t(std::stoull(addr, nullptr, 16));
    if (name == "startup_32") startup_32 = at;
    if (name == "phys_startup_32") phys_startup_32 = at;
    // Code only: text (t/T) and weak (w/W) symbols name functions.
    const char t = char(std::tolower(type[0]));
    if (t != 't' && t != 'w') continue;
    syms_.push_back({at, name});
  }
  // i386 Linux: its entry's physical address; without phys_startup_32 (a map made from
  // /proc/kallsyms), the default 3 GiB PAGE_OFFSET is assumed.
  if (startup_32 && *startup_32 >= kPageOffset)
    kaslr_.emplace(phys_startup_32.value_or(*startup_32 - kPageOffset));
  std::stable_sort(syms_.begin(), syms_.end(),
                   [](const Sym& a, const Sym& b) { return a.addr < b.addr; });
}

bool GuestSymbols::observe(uint32_t eip, const std::vector<uint8_t>& code) {
  return kaslr_ && kaslr_->observe(eip, code);
}

std::string GuestSymbols::name(uint32_t eip) const {
  eip -= offset();
  auto it = std::upper_bound(syms_.begin(), syms_.end(), eip,
                             [](uint32_t e, const Sym& s) { return e < s.addr; });
  if (it == syms_.begin()) return "";
  --it;
  return eip == it->addr ? it->name : fmt::format("{}+{:#x}", it->name, eip - it->addr);
}

}  // namespace monitor
