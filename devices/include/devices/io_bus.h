// The port-I/O bus: routes the guest's in/out instructions to the device that claims the port.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace devices {

// Something that answers port I/O. size is the access width in bytes (1, 2 or 4); port is the
// absolute port number, so one device can serve several ranges (e.g. both 8259s).
class PortDevice {
 public:
  virtual ~PortDevice() = default;
  virtual const char* name() const = 0;
  virtual uint32_t in(uint16_t port, unsigned size) = 0;
  virtual void out(uint16_t port, unsigned size, uint32_t value) = 0;
  // Widest access the device handles itself. The bus splits wider accesses into accesses of this
  // width at consecutive ports, as an ISA bus does for an 8-bit device.
  virtual unsigned access_width() const { return 1; }
};

class IoBus {
 public:
  struct Stats {
    uint64_t ins = 0;  // every in/out the CPU made, before any splitting
    uint64_t outs = 0;
    uint64_t unclaimed_ins = 0;  // accesses (after splitting) that reached no device
    uint64_t unclaimed_outs = 0;
  };
  struct RangeStats {
    uint16_t first;
    uint32_t count;
    const char* name;
    uint64_t ins;  // accesses delivered to the device (after splitting)
    uint64_t outs;
  };

  IoBus();

  // Claims ports [first, first + count) for device. Throws std::invalid_argument when the range is
  // empty, runs past port 0xffff or overlaps a range already attached.
  void attach(uint16_t first, unsigned count, PortDevice& device);

  // size must be 1, 2 or 4 (std::invalid_argument otherwise). Unclaimed ports read as all ones
  // and drop writes. Values are truncated to size bytes.
  uint32_t in(uint16_t port, unsigned size);
  void out(uint16_t port, unsigned size, uint32_t value);

  const Stats& stats() const { return stats_; }
  std::vector<RangeStats> range_stats() const;  // in attach order
  // Human-readable table of the counters, one line per range, for the monitor's statistics.
  std::string format_stats() const;

 private:
  struct Range {
    uint16_t first;
    uint32_t count;
    PortDevice* device;
    uint64_t ins = 0;
    uint64_t outs = 0;
  };
  static constexpr uint16_t kNone = 0xffff;

  uint32_t dispatch_in(uint16_t port, unsigned size);
  void dispatch_out(uint16_t port, unsigned size, uint32_t value);

  std::vector<Range> ranges_;
  std::vector<uint16_t> owner_;  // port -> index into ranges_, or kNone
  Stats stats_;
};

}  // namespace devices
