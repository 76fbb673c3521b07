#include "boot_files.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "load_error.h"

namespace monitor {

std::vector<uint8_t> read_boot_file(const std::string& path, const char* what, uint64_t max_bytes) {
  std::error_code ec;
  const bool regular = std::filesystem::is_regular_file(path, ec);
  const auto size = regular ? std::filesystem::file_size(path, ec) : 0;
  std::ifstream f(path, std::ios::binary);
  if (!regular || ec || !f) throw LoadError(fmt::format("{}: cannot open the {} file", path, what));
  if (size > max_bytes)
    throw LoadError(fmt::format("{}: the {} is {} MiB, larger than guest RAM ({} MiB; see --mem)",
                                path, what, (size + (1 << 20) - 1) >> 20, max_bytes >> 20));
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

}  // namespace monitor
