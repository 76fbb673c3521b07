#include "mmio_access.h"

#include <stdexcept>

namespace monitor {

std::optional<bt::WatchedAccess> MmioAccesses::begin(uint32_t linear, unsigned bytes,
                                                     unsigned access) {
  if (bytes == 0 || bytes > scratch_.size())
    throw std::logic_error("an MMIO operand of an unexpected size");
  const bool write = access & bt::kWatchWrite;
  // Every page of the operand, first to last, as the CPU checks them: a guest #PF on either
  // comes before any access (CR2 = the first byte on the faulting page).
  bool any = false;
  const uint32_t last = linear + bytes - 1;
  for (uint32_t at = linear;; at = (at | 0xfff) + 1) {
    uint32_t pa = at;
    if (v_.paging()) {
      auto r = shadow_.translate(at, write, v_.cpl == 3);
      if (auto* err = std::get_if<uint32_t>(&r)) {
        bt::WatchedAccess f;
        f.kind = bt::WatchedAccess::Kind::Fault;
        f.fault = cpu::Fault{cpu::kPF, true, *err, at};
        return f;
      }
      pa = std::get<shadowmmu::Translation>(r).phys;
    }
    any = any || redirected(pa);
    if ((at >> 12) == (last >> 12)) break;
  }
  if (!any) return std::nullopt;
  // The pages are allowed and their A/D bits set: these accesses cannot fault.
  if (access & bt::kWatchRead) {
    if (mem_.read(linear, scratch_.data(), bytes, mode()))
      throw std::logic_error("an MMIO operand read faulted after its pages were checked");
  }
  ++stats_.accesses;
  open_ = Open{linear, bytes, access};
  return bt::WatchedAccess{bt::WatchedAccess::Kind::Host,
                           reinterpret_cast<uint64_t>(scratch_.data())};
}

void MmioAccesses::end() {
  if (!open_) return;
  const Open o = *open_;
  open_.reset();
  if (!(o.access & bt::kWatchWrite)) return;
  if (mem_.write(o.linear, scratch_.data(), o.bytes, mode()))
    throw std::logic_error("an MMIO operand write faulted after its pages were checked");
}

}  // namespace monitor
