// Guest-physical addresses without RAM behind them (DESIGN §3, issue 10 item 5): what answers
// there is the machine's MMIO bus, seen by this module through this interface. An access is
// split at page boundaries (as hardware splits it); a part of 1, 2, 4 or 8 bytes reaches the
// device as one access of that width, any other length as 8/4/2/1-byte pieces in address order.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace shadowmmu {

class MmioHandler {
 public:
  virtual ~MmioHandler() = default;
  // width 1, 2, 4 or 8; never crosses a page.
  virtual uint64_t read(uint32_t pa, unsigned width) = 0;
  virtual void write(uint32_t pa, unsigned width, uint64_t value) = 0;
};

// The pieces (address, width) an access of `len` bytes at `addr` is made of, in address order.
std::vector<std::pair<uint32_t, unsigned>> split_access(uint32_t addr, unsigned len);

// Byte-buffer accesses through a handler (nullptr: nothing there, all ones / dropped), split
// with split_access. `pa` .. `pa + len` must not leave guest-physical space.
void mmio_read(MmioHandler* h, uint32_t pa, uint8_t* buf, unsigned len);
void mmio_write(MmioHandler* h, uint32_t pa, const uint8_t* buf, unsigned len);

}  // namespace shadowmmu
