#include "shadowmmu/guest_memory.h"

#include <algorithm>
#include <cstring>

#include "shadowmmu/page_walker.h"

namespace shadowmmu {

// Physical addresses without RAM behave like an empty bus: reads return all ones, writes are
// dropped (as on a PC). With paging on, each page is translated through the guest's tables
// with the access's privilege; a violation is the guest's #PF.
cpu::MaybeFault GuestMemory::access(uint32_t linear, uint8_t* buf, unsigned len, Mode m,
                                    bool write) {
  while (len) {
    const unsigned chunk = std::min<unsigned>(len, 4096 - (linear & 4095));
    uint32_t pa = linear;
    if (v_.paging()) {
      auto r = walk({as_.physmap(), as_.ram_size()}, v_.cr0, v_.cr3, v_.cr4, linear,
                    {write, m == Mode::User});
      if (auto* err = std::get_if<uint32_t>(&r)) return cpu::Fault{cpu::kPF, true, *err, linear};
      pa = std::get<Translation>(r).phys;
    }
    if (write) {
      const bool paged = shadow_ && v_.paging();
      const bool was_direct = as_.page_flags(pa) & AddressSpace::kDirect;
      if (direct_code_) direct_code_->note_write(pa, chunk);
      if (paged && was_direct) shadow_->protect_phys(pa);  // its mappings lose execution
      if (code_traces_) code_traces_->on_write(pa);
      if (paged) shadow_->note_write(pa, chunk);
    }
    for (unsigned i = 0; i < chunk; ++i) {
      uint8_t* p = as_.phys(uint32_t(pa + i), 1);
      if (write) {
        if (p) *p = buf[i];
      } else {
        buf[i] = p ? *p : 0xff;
      }
    }
    linear += chunk;
    buf += chunk;
    len -= chunk;
  }
  return {};
}

cpu::MaybeFault GuestMemory::read(uint32_t linear, void* dst, unsigned len, Mode m) {
  return access(linear, static_cast<uint8_t*>(dst), len, m, false);
}

cpu::MaybeFault GuestMemory::write(uint32_t linear, const void* src, unsigned len, Mode m) {
  // access() only reads from the buffer when writing.
  return access(linear, static_cast<uint8_t*>(const_cast<void*>(src)), len, m, true);
}

}  // namespace shadowmmu
