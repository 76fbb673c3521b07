#include "cpu/fault_chain.h"

#include <fmt/format.h>

#include "cpu/cpu.h"

namespace cpu {

void FaultChain::start(const Fault& f, Origin origin) {
  n_ = 0;
  dropped_ = 0;
  links_[n_++] = Link{f.vector, f.has_error, f.error, f.cr2, origin, false};
}

void FaultChain::add(const Fault& f, bool escalated) {
  if (n_ == kMax) {
    ++dropped_;
    return;
  }
  links_[n_++] = Link{f.vector, f.has_error, f.error, f.cr2, Origin::Exception, false};
  if (escalated && n_ < kMax) links_[n_++] = Link{kDF, true, 0, 0, Origin::Exception, true};
}

std::string FaultChain::describe() const {
  std::string s;
  for (unsigned i = 0; i < n_; ++i) {
    const Link& l = links_[i];
    if (i > 0) s += l.escalated ? " => " : " -> ";
    if (l.origin == Origin::External) {
      s += fmt::format("external interrupt {:#04x}", l.vector);
    } else if (l.origin == Origin::Software) {
      s += fmt::format("int {:#04x}", l.vector);
    } else {
      s += vector_name(l.vector);
      if (l.has_error && l.vector == kPF)
        s += fmt::format("(error {:04x}, CR2 {:08x})", l.error, l.cr2);
      else if (l.has_error)
        s += fmt::format("(error {:04x})", l.error);
    }
  }
  if (dropped_) s += fmt::format(" -> ... ({} more)", dropped_);
  return s;
}

}  // namespace cpu
