// BCD adjustments and salc: one callout each; cpu/bcd.cpp computes the result and the flags
// (those the SDM leaves undefined as that file says).
#include "callouts.h"
#include "engine_core.h"
#include "system_ops.h"

namespace bt {

using namespace asmjit;
using namespace asmjit::x86;

std::optional<Flow> emit_bcd_op(Ctx& c, const Insn& in) {
  namespace co = callouts;
  const auto& d = in.d;
  switch (d.mnemonic) {
    case ZYDIS_MNEMONIC_DAA:
      emit_callout(c, in, CalloutKind::Bcd, co::bcd, true, 0);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_DAS:
      emit_callout(c, in, CalloutKind::Bcd, co::bcd, true, 1);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_AAA:
      emit_callout(c, in, CalloutKind::Bcd, co::bcd, true, 2);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_AAS:
      emit_callout(c, in, CalloutKind::Bcd, co::bcd, true, 3);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_AAM:
    case ZYDIS_MNEMONIC_AAD: {
      uint32_t base = uint32_t(in.ops[0].imm.value.u & 0xff);
      emit_callout(c, in, CalloutKind::Bcd, co::bcd, true,
                   (d.mnemonic == ZYDIS_MNEMONIC_AAM ? 4 : 5) | base << 8);
      return Flow::Continue;
    }
    case ZYDIS_MNEMONIC_SALC:
      emit_callout(c, in, CalloutKind::Bcd, co::bcd, true, 6);
      return Flow::Continue;

    default:
      break;
  }
  return std::nullopt;
}

}  // namespace bt
