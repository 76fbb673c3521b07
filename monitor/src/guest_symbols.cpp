#include "guest_symbols.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "tc_tools.h"

namespace monitor {

GuestSymbols::GuestSymbols(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw OptionError(fmt::format("--guest-symbols {}: cannot open it", path));
  std::string line;
  for (unsigned n = 1; std::getline(f, line); ++n) {
    std::istringstream in(line);
    std::string addr, type, name;
    if (!(in >> addr >> type >> name) || type.size() != 1 ||
        addr.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos || addr.size() > 16)
      throw OptionError(fmt::format(
          "--guest-symbols {}: line {} is not \"address type name\" (a System.map)", path, n));
    // Code only: text (t/T) and weak (w/W) symbols name functions.
    const char t = char(std::tolower(type[0]));
    if (t != 't' && t != 'w') continue;
    syms_.push_back({uint32_t(std::stoull(addr, nullptr, 16)), name});
  }
  std::stable_sort(syms_.begin(), syms_.end(),
                   [](const Sym& a, const Sym& b) { return a.addr < b.addr; });
}

std::string GuestSymbols::name(uint32_t eip) const {
  auto it = std::upper_bound(syms_.begin(), syms_.end(), eip,
                             [](uint32_t e, const Sym& s) { return e < s.addr; });
  if (it == syms_.begin()) return "";
  --it;
  return eip == it->addr ? it->name : fmt::format("{}+{:#x}", it->name, eip - it->addr);
}

}  // namespace monitor
