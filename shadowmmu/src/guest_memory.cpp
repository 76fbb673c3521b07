#include "shadowmmu/guest_memory.h"

#include <cstring>

namespace shadowmmu {

// With paging off, linear = physical. Physical addresses without RAM behave like an empty
// bus: reads return all ones, writes are dropped (as on a PC).
cpu::MaybeFault GuestMemory::read(uint32_t linear, void* dst, unsigned len, Mode) {
  if (v_.paging()) throw cpu::Unsupported{"guest paging (arrives with the shadow MMU)"};
  auto* out = static_cast<uint8_t*>(dst);
  for (unsigned i = 0; i < len; ++i) {
    const uint8_t* p = as_.phys(uint32_t(linear + i), 1);
    out[i] = p ? *p : 0xff;
  }
  return {};
}

cpu::MaybeFault GuestMemory::write(uint32_t linear, const void* src, unsigned len, Mode) {
  if (v_.paging()) throw cpu::Unsupported{"guest paging (arrives with the shadow MMU)"};
  if (direct_code_) direct_code_->note_write(linear, len);
  auto* in = static_cast<const uint8_t*>(src);
  for (unsigned i = 0; i < len; ++i) {
    if (uint8_t* p = as_.phys(uint32_t(linear + i), 1)) *p = in[i];
  }
  return {};
}

}  // namespace shadowmmu
