// Port I/O with the protected-mode permission rules: CPL <= IOPL, else the TSS I/O bitmap.
#include "cpu/cpu.h"

namespace cpu {

MaybeFault Cpu::io_permitted(uint16_t port, unsigned size) {
  if (!v_.protected_mode()) return {};
  const uint8_t iopl = (v_.eflags >> 12) & 3;
  if (v_.cpl <= iopl) return {};
  const Segment& tr = v_.tr;
  if (!tr.present() || (tr.type() != 0x9 && tr.type() != 0xb) || tr.limit < 0x67)
    return Fault::gp();
  uint16_t map;
  if (auto f = mem_.read(tr.base + 0x66, &map, 2, Memory::Mode::Supervisor)) return f;
  uint32_t at = map + port / 8u;
  if (at + 1 > tr.limit) return Fault::gp();
  uint16_t bits;
  if (auto f = mem_.read(tr.base + at, &bits, 2, Memory::Mode::Supervisor)) return f;
  uint16_t want = uint16_t(((1u << size) - 1) << (port & 7));
  if (bits & want) return Fault::gp();
  return {};
}

MaybeFault Cpu::in(uint16_t port, unsigned size, uint32_t& value) {
  if (auto f = io_permitted(port, size)) return f;
  value = ports_.in(port, size);
  return {};
}

MaybeFault Cpu::out(uint16_t port, unsigned size, uint32_t value) {
  if (auto f = io_permitted(port, size)) return f;
  ports_.out(port, size, value);
  return {};
}

}  // namespace cpu
