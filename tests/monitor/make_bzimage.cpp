// Test tool: makes a bzImage from a setup part and protected-mode code, sets syssize, and
// applies patches to build the bad files the loader must refuse.
//   make_bzimage SETUP PM OUT [OFFSET:WIDTH:VALUE ...]   (numbers in C notation)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

namespace {
std::vector<char> slurp(const char* path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "make_bzimage: cannot read %s\n", path);
    std::exit(1);
  }
  return std::vector<char>(std::istreambuf_iterator<char>(f), {});
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: make_bzimage SETUP PM OUT [OFFSET:WIDTH:VALUE ...]\n");
    return 1;
  }
  std::vector<char> img = slurp(argv[1]);
  const std::vector<char> pm = slurp(argv[2]);
  const uint32_t syssize = uint32_t((pm.size() + 15) / 16);
  img.insert(img.end(), pm.begin(), pm.end());
  if (img.size() < 0x300) return 1;
  std::memcpy(&img[0x1f4], &syssize, 4);
  for (int i = 4; i < argc; ++i) {
    char* p = argv[i];
    const unsigned long off = std::strtoul(p, &p, 0);
    const unsigned long width = std::strtoul(p + 1, &p, 0);
    const unsigned long long value = std::strtoull(p + 1, &p, 0);
    if (width > 8 || off + width > img.size()) return 1;
    std::memcpy(&img[off], &value, width);
  }
  std::ofstream out(argv[3], std::ios::binary);
  out.write(img.data(), std::streamsize(img.size()));
  return out ? 0 : 1;
}
