// BCD adjustments and salc: one callout each; cpu/bcd.cpp computes the result and the flags
// (those the SDM leaves undefined as that file says).
#include "callouts.h"
#include "engine_core.h"
#include "system_ops.h"

namespace bt {

std::optional<Flow> emit_bcd_op(Ctx& c, const Insn& in) {
  // The operation cpu/bcd.cpp is asked for (a1's low byte; aam/aad: their base above it).
  auto base = [&] { return uint32_t(in.ops[0].imm.value.u & 0xff) << 8; };
  uint32_t op;
  switch (in.d.mnemonic) {
    case ZYDIS_MNEMONIC_DAA:
      op = 0;
      break;
    case ZYDIS_MNEMONIC_DAS:
      op = 1;
      break;
    case ZYDIS_MNEMONIC_AAA:
      op = 2;
      break;
    case ZYDIS_MNEMONIC_AAS:
      op = 3;
      break;
    case ZYDIS_MNEMONIC_AAM:
      op = 4 | base();
      break;
    case ZYDIS_MNEMONIC_AAD:
      op = 5 | base();
      break;
    case ZYDIS_MNEMONIC_SALC:
      op = 6;
      break;
    default:
      return std::nullopt;
  }
  emit_callout(c, in, CalloutKind::Bcd, callouts::bcd, true, op);
  return Flow::Continue;
}

}  // namespace bt
