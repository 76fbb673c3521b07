#include "shadowmmu/mmio.h"

#include <algorithm>
#include <cstring>

namespace shadowmmu {

std::vector<std::pair<uint32_t, unsigned>> split_access(uint32_t addr, unsigned len) {
  std::vector<std::pair<uint32_t, unsigned>> out;
  while (len) {
    const unsigned in_page = std::min<unsigned>(len, 4096 - (addr & 4095));
    unsigned w = 8;
    while (w > in_page) w /= 2;
    out.emplace_back(addr, w);
    addr += w;
    len -= w;
  }
  return out;
}

void mmio_read(MmioHandler* h, uint32_t pa, uint8_t* buf, unsigned len) {
  for (auto [at, w] : split_access(pa, len)) {
    const uint64_t v = h ? h->read(at, w) : ~0ull;
    std::memcpy(buf + (at - pa), &v, w);  // little-endian host
  }
}

void mmio_write(MmioHandler* h, uint32_t pa, const uint8_t* buf, unsigned len) {
  for (auto [at, w] : split_access(pa, len)) {
    uint64_t v = 0;
    std::memcpy(&v, buf + (at - pa), w);
    if (h) h->write(at, w, v);
  }
}

}  // namespace shadowmmu
