// Which EFLAGS bits popf/cli/sti may change at the current privilege (SDM Vol. 2 POPF, CLI).
#include "cpu/cpu.h"

namespace cpu {

MaybeFault Cpu::iopl_sensitive() {
  if (v_.protected_mode() && v_.cpl > ((v_.eflags >> 12) & 3)) return Fault::gp();
  return {};
}

void Cpu::popf(uint32_t value, unsigned size) {
  const uint32_t old = v_.read_eflags();
  const uint8_t iopl = (old >> 12) & 3;
  uint32_t mask = fl::ARITH | fl::TF | fl::DF | fl::NT | fl::AC | fl::ID;
  if (v_.cpl == 0) mask |= fl::IOPL;
  if (v_.cpl <= iopl) mask |= fl::IF;
  if (size == 2) mask &= 0xffff;
  v_.write_eflags(((old & ~mask) | (value & mask)) & ~fl::RF);
}

}  // namespace cpu
