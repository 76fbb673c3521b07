// ins/outs with and without rep through the port bus: a callout that runs cpu/'s iterations
// (string_io.cpp there) until the count is done, a fault, or a pending event. Between
// iterations a pending interrupt is taken with EIP still at the instruction and the registers
// naming the next element, so the rep resumes after the handler, as on the part.
#include "callout_guard.h"
#include "callouts.h"
#include "translator.h"

namespace bt {

namespace callouts {
// a1 = size | in << 4 | rep << 5 | addr16 << 6 | outs segment << 8
uint32_t string_io(void* vp, uint64_t, uint64_t a1) {
  const bool in = (a1 >> 4) & 1;
  return guarded(vp, in ? CalloutKind::PortIn : CalloutKind::PortOut,
                 [&](EngineCore& e, cpu::Cpu& c) {
                   const cpu::StringIo op{in, unsigned(a1 & 0xf), bool((a1 >> 5) & 1),
                                          bool((a1 >> 6) & 1), cpu::Seg((a1 >> 8) & 7)};
                   for (;;) {
                     bool done = false;
                     auto f = c.string_io_step(op, done);
                     if (f || done) return finish_callout(e, f, !f && e.v.pending.any);
                     if (e.v.pending.any) {
                       e.request_continue();  // at the instruction, to resume after the event
                       return 1u;
                     }
                   }
                 });
}
}  // namespace callouts

bool is_string_io(const Insn& in) {
  switch (in.d.mnemonic) {
    case ZYDIS_MNEMONIC_INSB:
    case ZYDIS_MNEMONIC_INSW:
    case ZYDIS_MNEMONIC_INSD:
    case ZYDIS_MNEMONIC_OUTSB:
    case ZYDIS_MNEMONIC_OUTSW:
    case ZYDIS_MNEMONIC_OUTSD:
      return true;
    default:
      return false;
  }
}

void emit_string_io(Ctx& c, const Insn& in) {
  const auto& d = in.d;
  const bool is_in = d.mnemonic == ZYDIS_MNEMONIC_INSB || d.mnemonic == ZYDIS_MNEMONIC_INSW ||
                     d.mnemonic == ZYDIS_MNEMONIC_INSD;
  // F2 and F3 both repeat ins/outs.
  bool rep = false;
  for (unsigned i = 0; i < d.raw.prefix_count; ++i)
    rep |= d.raw.prefixes[i].value == 0xF2 || d.raw.prefixes[i].value == 0xF3;
  const uint32_t size = d.operand_width / 8;
  const uint32_t a1 = size | uint32_t(is_in) << 4 | uint32_t(rep) << 5 |
                      uint32_t(d.address_width == 16) << 6 | uint32_t(memory_segment(in)) << 8;
  emit_callout(c, in, is_in ? CalloutKind::PortIn : CalloutKind::PortOut, callouts::string_io, true,
               a1);
}

}  // namespace bt
