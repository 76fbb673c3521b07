#include "shadowmmu/guest_memory.h"

#include <algorithm>
#include <cstring>

#include "shadowmmu/page_walker.h"

namespace shadowmmu {

// Physical addresses without RAM go to the MMIO bus (AddressSpace::mmio): a device, or nothing
// (all ones, writes dropped, as on a PC). With paging on, each page is translated through the
// guest's tables with the access's privilege; a violation is the guest's #PF.
cpu::MaybeFault GuestMemory::access(uint32_t linear, uint8_t* buf, unsigned len, Mode m,
                                    bool write) {
  while (len) {
    const unsigned chunk = std::min<unsigned>(len, 4096 - (linear & 4095));
    uint32_t pa = linear;
    if (v_.paging()) {
      auto r = walk({as_.physmap(), as_.ram_size(), as_.mmio()}, v_.cr0, v_.cr3, v_.cr4, linear,
                    {write, m == Mode::User});
      if (auto* err = std::get_if<uint32_t>(&r)) return cpu::Fault{cpu::kPF, true, *err, linear};
      pa = std::get<Translation>(r).phys;
    }
    uint8_t* ram = as_.phys(pa, chunk);
    if (!ram) {  // a device, or nothing (all ones): MMIO, with the widths split_access gives
      if (write)
        mmio_write(as_.mmio(), pa, buf, chunk);
      else
        mmio_read(as_.mmio(), pa, buf, chunk);
    } else if (write) {
      const bool paged = shadow_ && v_.paging();
      const bool was_direct = as_.page_flags(pa) & AddressSpace::kDirect;
      if (direct_code_) direct_code_->note_write(pa, chunk);
      if (paged && was_direct) shadow_->protect_phys(pa);  // its mappings lose execution
      if (code_traces_) code_traces_->on_write(pa);
      if (paged) shadow_->note_write(pa, chunk);
      std::memcpy(ram, buf, chunk);
    } else {
      std::memcpy(buf, ram, chunk);
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
