// The memory-mapped I/O bus: guest-physical ranges that are not RAM, each answered by the
// device that claimed it. Whatever no device claims is the default device, unassigned memory
// (UnassignedMemory): reads return all ones and writes vanish, as on a PC's empty bus.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace devices {

// Something that answers memory accesses. `offset` is from the start of the claimed range;
// `width` is 1, 2, 4 or 8 bytes; values are little-endian and only their low `width` bytes
// count.
class MmioDevice {
 public:
  virtual ~MmioDevice() = default;
  virtual const char* name() const = 0;
  virtual uint64_t read(uint64_t offset, unsigned width) = 0;
  virtual void write(uint64_t offset, unsigned width, uint64_t value) = 0;
};

// The default device: all ones, writes dropped, every access counted. `on_access`, when set,
// hears each one first (--strict-memory makes it stop the VM).
class UnassignedMemory final : public MmioDevice {
 public:
  const char* name() const override { return "unassigned"; }
  uint64_t read(uint64_t addr, unsigned width) override;
  void write(uint64_t addr, unsigned width, uint64_t value) override;
  std::function<void(bool write, uint64_t addr, unsigned width)> on_access;
  uint64_t reads = 0, writes = 0;
};

class MmioBus {
 public:
  // Claims [base, base + size) for `device`. Claims are whole 4 KiB pages (the window protects
  // pages). Throws std::invalid_argument for an empty, unaligned or overlapping range.
  void claim(uint64_t base, uint64_t size, MmioDevice& device);
  // The device behind `addr` (the default device where nothing is claimed).
  MmioDevice& device_at(uint64_t addr);
  bool claimed(uint64_t addr) const { return find(addr) != nullptr; }
  // One access: width 1, 2, 4 or 8 (std::invalid_argument otherwise), within one page.
  uint64_t read(uint64_t addr, unsigned width);
  void write(uint64_t addr, unsigned width, uint64_t value);

  UnassignedMemory& unassigned() { return unassigned_; }
  const UnassignedMemory& unassigned() const { return unassigned_; }
  std::string format_stats() const;

 private:
  struct Range {
    uint64_t base, size;
    MmioDevice* device;
    uint64_t reads = 0, writes = 0;
  };
  Range* find(uint64_t addr);
  const Range* find(uint64_t addr) const;
  std::vector<Range> ranges_;  // sorted by base
  UnassignedMemory unassigned_;
};

}  // namespace devices
