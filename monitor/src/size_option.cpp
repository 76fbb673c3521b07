#include "size_option.h"

#include <charconv>

namespace monitor {

std::optional<uint64_t> parse_size(const std::string& s) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end == s.data()) return std::nullopt;
  std::string suffix(end, s.data() + s.size());
  unsigned shift = 0;
  if (suffix == "")
    shift = 0;
  else if (suffix == "K" || suffix == "k" || suffix == "KiB")
    shift = 10;
  else if (suffix == "M" || suffix == "m" || suffix == "MiB")
    shift = 20;
  else if (suffix == "G" || suffix == "g" || suffix == "GiB")
    shift = 30;
  else
    return std::nullopt;
  if (shift && n > (~0ull >> shift)) return std::nullopt;
  return n << shift;
}

}  // namespace monitor
