// Instructions whose effect is an exception: int n, int3, int1, into and the ud forms end the
// unit with a static exit; sysenter/sysexit give the #GP(0) of a part with SEP but
// IA32_SYSENTER_CS = 0; bound calls out for its range check (#BR).
#include "callouts.h"
#include "engine_core.h"
#include "system_ops.h"

namespace bt {

using namespace asmjit;
using namespace asmjit::x86;

std::optional<Flow> emit_exception_op(Ctx& c, const Insn& in) {
  namespace co = callouts;
  auto& a = c.a;
  const auto& d = in.d;
  const unsigned osize = d.operand_width / 8;
  switch (d.mnemonic) {
    case ZYDIS_MNEMONIC_INT:
      static_exception(c, in, uint8_t(in.ops[0].imm.value.u), true);
      return Flow::End;
    case ZYDIS_MNEMONIC_INT3:
      static_exception(c, in, cpu::kBP, true);
      return Flow::End;
    case ZYDIS_MNEMONIC_INT1:
      static_exception(c, in, cpu::kDB, false);
      return Flow::End;
    case ZYDIS_MNEMONIC_INTO: {
      Label no = a.newLabel();
      a.jno(no);
      static_exception(c, in, cpu::kOF, true);
      a.bind(no);
      return Flow::Continue;
    }
    case ZYDIS_MNEMONIC_UD0:
    case ZYDIS_MNEMONIC_UD1:
    case ZYDIS_MNEMONIC_UD2:
      static_exception(c, in, cpu::kUD, false);
      return Flow::End;
    case ZYDIS_MNEMONIC_SYSENTER:
    case ZYDIS_MNEMONIC_SYSEXIT: {
      // Only reached for a part that has SEP (isa.cpp). bt86 does not advertise it and keeps
      // IA32_SYSENTER_CS at its reset value 0, which makes both #GP(0) on the part (SDM:
      // SYSENTER_CS[15:2] = 0). Ring-3 code gets that fault rather than stopping the VM.
      StaticExit e;
      e.kind = StaticExit::Kind::Exception;
      e.vector = cpu::kGP;
      e.error_code = true;
      emit_static_exit(c, in, e);
      return Flow::End;
    }
    case ZYDIS_MNEMONIC_BOUND:
      ea_to_r12(c, in);
      emit_callout(
          c, in, CalloutKind::Bound, co::bound, true,
          guest_gpr(in.ops[0].reg.value) | uint32_t(memory_segment(in)) << 8 | osize << 16);
      return Flow::Continue;
    default:
      break;
  }
  return std::nullopt;
}

}  // namespace bt
