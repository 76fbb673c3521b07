#include "zero_page.h"

#include <cstring>
#include <stdexcept>

#include "linux_setup_header.h"

namespace monitor {

namespace {
// The end of the setup heap the real-mode code would use, minus 0x200 (boot.rst: heap_end_ptr);
// 0xe000 is the conventional end of the setup area. Only the real-mode code reads it.
constexpr uint16_t kHeapEnd = 0xe000 - 0x200;

template <typename T>
void put(std::array<uint8_t, 4096>& p, uint32_t off, T v) {
  std::memcpy(&p[off], &v, sizeof v);
}
}  // namespace

std::array<uint8_t, 4096> build_zero_page(const ZeroPageFields& f) {
  std::array<uint8_t, 4096> p{};
  if (f.header.empty() || zp::kHeader + f.header.size() > zp::kE820Table - 0x40)
    throw std::invalid_argument("setup header does not fit the zero page");
  if (f.e820.size() > zp::kE820Max) throw std::invalid_argument("too many E820 entries");
  std::memcpy(&p[zp::kHeader], f.header.data(), f.header.size());

  p[zp::kTypeOfLoader] = kLoaderTypeUndefined;
  p[zp::kLoadflags] = uint8_t(p[zp::kLoadflags] | kCanUseHeap);
  put<uint16_t>(p, zp::kHeapEndPtr, kHeapEnd);
  put<uint32_t>(p, zp::kCode32Start, f.load_address);
  put<uint32_t>(p, zp::kCmdLinePtr, f.cmdline_addr);
  put<uint32_t>(p, zp::kRamdiskImage, f.initrd_addr);
  put<uint32_t>(p, zp::kRamdiskSize, f.initrd_size);
  put<uint64_t>(p, zp::kAcpiRsdpAddr, f.rsdp_addr);

  p[zp::kE820Entries] = uint8_t(f.e820.size());
  uint32_t at = zp::kE820Table;
  for (const auto& e : f.e820) {
    put<uint64_t>(p, at, e.addr);
    put<uint64_t>(p, at + 8, e.len);
    put<uint32_t>(p, at + 16, uint32_t(e.type));
    at += 20;
  }
  put<uint32_t>(p, zp::kAltMemK, uint32_t(ram_above_1m(f.e820) >> 10));
  return p;
}

}  // namespace monitor
