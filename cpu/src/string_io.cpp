// ins/outs (SDM Vol. 2 INS/INSB/INSW/INSD, OUTS/OUTSB/OUTSW/OUTSD, REP): one iteration at a
// time, so that a rep instruction is restartable. The I/O permission check (CPL <= IOPL, else
// the TSS bitmap) comes first in every iteration; ins writes ES:(E)DI, outs reads seg:(E)SI.
// (E)SI/(E)DI step by the size (down with DF) and the count drops only once the iteration's
// accesses succeeded, so a fault (#PF, #GP) leaves the registers at the failing element.
#include "cpu/cpu.h"

namespace cpu {

MaybeFault Cpu::string_io_step(const StringIo& op, bool& done) {
  const uint32_t mask = op.addr16 ? 0xffffu : 0xffffffffu;
  uint32_t& count = v_.gpr[ECX];
  done = true;
  if (op.rep && (count & mask) == 0) return {};
  const uint16_t port = uint16_t(v_.gpr[EDX]);
  if (auto f = io_permitted(port, op.size)) return f;
  uint32_t& index = v_.gpr[op.in ? EDI : ESI];
  const uint32_t at = uint32_t(v_.seg[op.in ? ES : op.seg].base + (index & mask));
  if (op.in) {
    // The destination is checked before the port is read (as Bochs does), so a fault does not
    // lose a value the device has already given up.
    const uint32_t zero = 0;
    if (auto f = mem_.write(at, &zero, op.size, mode())) return f;
    const uint32_t value = ports_.in(port, op.size);
    if (auto f = mem_.write(at, &value, op.size, mode())) return f;
  } else {
    uint32_t value = 0;
    if (auto f = mem_.read(at, &value, op.size, mode())) return f;
    ports_.out(port, op.size, value);
  }
  const uint32_t step = (v_.eflags & fl::DF) ? uint32_t(-int32_t(op.size)) : op.size;
  index = (index & ~mask) | ((index + step) & mask);
  if (!op.rep) return {};
  count = (count & ~mask) | ((count - 1) & mask);
  done = (count & mask) == 0;
  return {};
}

}  // namespace cpu
