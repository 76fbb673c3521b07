#include "devices/mmio_bus.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace devices {

namespace {
constexpr uint64_t kPage = 4096;

uint64_t width_mask(unsigned width) {
  return width >= 8 ? ~0ull : (1ull << (8 * width)) - 1;
}

void check_access(uint64_t addr, unsigned width) {
  if (width != 1 && width != 2 && width != 4 && width != 8)
    throw std::invalid_argument(fmt::format("MMIO access width {} is not 1, 2, 4 or 8", width));
  if ((addr & (kPage - 1)) + width > kPage)
    throw std::invalid_argument(fmt::format("MMIO access at {:#x}+{} crosses a page", addr, width));
}
}  // namespace

uint64_t UnassignedMemory::read(uint64_t addr, unsigned width) {
  if (on_access) on_access(false, addr, width);
  ++reads;
  return width_mask(width);
}

void UnassignedMemory::write(uint64_t addr, unsigned width, uint64_t) {
  if (on_access) on_access(true, addr, width);
  ++writes;
}

void MmioBus::claim(uint64_t base, uint64_t size, MmioDevice& device) {
  if (size == 0 || base % kPage || size % kPage || base + size < base || base + size > (1ull << 32))
    throw std::invalid_argument(
        fmt::format("{}: MMIO range {:#x}+{:#x} is empty, not in whole pages or past 4 GiB",
                    device.name(), base, size));
  for (const Range& r : ranges_)
    if (base < r.base + r.size && r.base < base + size)
      throw std::invalid_argument(
          fmt::format("{}: MMIO range {:#x}+{:#x} overlaps {} at {:#x}+{:#x}", device.name(), base,
                      size, r.device->name(), r.base, r.size));
  ranges_.push_back(Range{base, size, &device});
  std::sort(ranges_.begin(), ranges_.end(),
            [](const Range& a, const Range& b) { return a.base < b.base; });
}

MmioBus::Range* MmioBus::find(uint64_t addr) {
  return const_cast<Range*>(std::as_const(*this).find(addr));
}

const MmioBus::Range* MmioBus::find(uint64_t addr) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), addr,
                             [](uint64_t a, const Range& r) { return a < r.base; });
  if (it == ranges_.begin()) return nullptr;
  --it;
  return addr - it->base < it->size ? &*it : nullptr;
}

MmioDevice& MmioBus::device_at(uint64_t addr) {
  Range* r = find(addr);
  return r ? *r->device : unassigned_;
}

uint64_t MmioBus::read(uint64_t addr, unsigned width) {
  check_access(addr, width);
  Range* r = find(addr);
  if (!r) return unassigned_.read(addr, width);
  ++r->reads;
  return r->device->read(addr - r->base, width) & width_mask(width);
}

void MmioBus::write(uint64_t addr, unsigned width, uint64_t value) {
  check_access(addr, width);
  Range* r = find(addr);
  if (!r) return unassigned_.write(addr, width, value & width_mask(width));
  ++r->writes;
  r->device->write(addr - r->base, width, value & width_mask(width));
}

std::string MmioBus::format_stats() const {
  std::string s = fmt::format("  unassigned reads {}\n  unassigned writes {}\n", unassigned_.reads,
                              unassigned_.writes);
  for (const Range& r : ranges_)
    s += fmt::format("  {:#010x}-{:#010x} {:<16} {:>12} reads {:>12} writes\n", r.base,
                     r.base + r.size - 1, r.device->name(), r.reads, r.writes);
  return s;
}

}  // namespace devices
