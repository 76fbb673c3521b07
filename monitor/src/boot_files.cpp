#include "boot_files.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "load_error.h"

namespace monitor {

namespace {
std::string too_large(const std::string& path, const char* what, uint64_t size,
                      uint64_t max_bytes) {
  return fmt::format("{}: the {} is {} MiB, larger than guest RAM ({} MiB; see --mem)", path, what,
                     (size + (1 << 20) - 1) >> 20, max_bytes >> 20);
}
}  // namespace

std::vector<uint8_t> read_boot_file(const std::string& path, const char* what, uint64_t max_bytes) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  const bool regular = !ec && std::filesystem::is_regular_file(st);
  // A pipe (`--initrd <(zcat initrd.gz)`, a FIFO) or a character device has no size to check
  // first: it is read up to one byte past the limit.
  const bool stream =
      !ec && (std::filesystem::is_fifo(st) || std::filesystem::is_character_file(st));
  const auto size = regular ? std::filesystem::file_size(path, ec) : 0;
  std::ifstream f(path, std::ios::binary);
  if (!(regular || stream) || ec || !f)
    throw LoadError(fmt::format("{}: cannot open the {} file", path, what));
  if (size > max_bytes) throw LoadError(too_large(path, what, size, max_bytes));
  if (regular) return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
  std::vector<uint8_t> bytes;
  char buf[1 << 16];
  while (f.read(buf, sizeof buf) || f.gcount() > 0) {
    bytes.insert(bytes.end(), buf, buf + f.gcount());
    if (bytes.size() > max_bytes) throw LoadError(too_large(path, what, bytes.size(), max_bytes));
  }
  if (f.bad()) throw LoadError(fmt::format("{}: cannot read the {} file", path, what));
  return bytes;
}

}  // namespace monitor
