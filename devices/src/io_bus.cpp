#include "devices/io_bus.h"

#include <fmt/format.h>

#include <stdexcept>

namespace devices {
namespace {

uint32_t size_mask(unsigned size) {
  return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

void check_size(unsigned size) {
  if (size != 1 && size != 2 && size != 4)
    throw std::invalid_argument(fmt::format("port I/O access size {} is not 1, 2 or 4", size));
}

}  // namespace

IoBus::IoBus() : owner_(0x10000, kNone) {}

void IoBus::attach(uint16_t first, unsigned count, PortDevice& device) {
  if (count == 0 || first + count > 0x10000u)
    throw std::invalid_argument(fmt::format("{}: port range {:#x}+{} is empty or past 0xffff",
                                            device.name(), first, count));
  for (unsigned p = first; p < first + count; ++p) {
    if (owner_[p] != kNone) {
      const Range& other = ranges_[owner_[p]];
      throw std::invalid_argument(fmt::format(
          "{}: ports {:#x}-{:#x} overlap {} at {:#x}-{:#x}", device.name(), first,
          first + count - 1, other.device->name(), other.first, other.first + other.count - 1));
    }
  }
  if (ranges_.size() >= kNone) throw std::length_error("too many port ranges");
  const auto index = uint16_t(ranges_.size());
  ranges_.push_back(Range{first, count, &device});
  for (unsigned p = first; p < first + count; ++p) owner_[p] = index;
}

uint32_t IoBus::in(uint16_t port, unsigned size) {
  check_size(size);
  ++stats_.ins;
  return dispatch_in(port, size) & size_mask(size);
}

void IoBus::out(uint16_t port, unsigned size, uint32_t value) {
  check_size(size);
  ++stats_.outs;
  dispatch_out(port, size, value & size_mask(size));
}

uint32_t IoBus::dispatch_in(uint16_t port, unsigned size) {
  const uint16_t index = owner_[port];
  if (index == kNone) {
    ++stats_.unclaimed_ins;
    return size_mask(size);
  }
  Range& r = ranges_[index];
  const unsigned width = r.device->access_width();
  if (size <= width) {
    ++r.ins;
    return r.device->in(port, size) & size_mask(size);
  }
  // Little-endian split; a piece past port 0xffff wraps like the address lines do.
  uint32_t value = 0;
  for (unsigned done = 0; done < size; done += width)
    value |= dispatch_in(uint16_t(port + done), width) << (8 * done);
  return value;
}

void IoBus::dispatch_out(uint16_t port, unsigned size, uint32_t value) {
  const uint16_t index = owner_[port];
  if (index == kNone) {
    ++stats_.unclaimed_outs;
    return;
  }
  Range& r = ranges_[index];
  const unsigned width = r.device->access_width();
  if (size <= width) {
    ++r.outs;
    r.device->out(port, size, value);
    return;
  }
  for (unsigned done = 0; done < size; done += width)
    dispatch_out(uint16_t(port + done), width, (value >> (8 * done)) & size_mask(width));
}

std::vector<IoBus::RangeStats> IoBus::range_stats() const {
  std::vector<RangeStats> out;
  out.reserve(ranges_.size());
  for (const Range& r : ranges_) out.push_back({r.first, r.count, r.device->name(), r.ins, r.outs});
  return out;
}

std::string IoBus::format_stats() const {
  std::string s = fmt::format("port I/O: {} in, {} out; unclaimed {} in, {} out\n", stats_.ins,
                              stats_.outs, stats_.unclaimed_ins, stats_.unclaimed_outs);
  for (const Range& r : ranges_)
    s += fmt::format("  {:#06x}-{:#06x} {:<16} {:>12} in {:>12} out\n", r.first,
                     r.first + r.count - 1, r.device->name(), r.ins, r.outs);
  return s;
}

}  // namespace devices
