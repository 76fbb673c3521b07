// Descriptor-table instructions: each calls out to cpu/, which reads or writes the guest's
// GDTR/IDTR/LDTR/TR and descriptors with the guest's checks.
#include "callouts.h"
#include "engine_core.h"
#include "system_ops.h"

namespace bt {

using namespace asmjit;
using namespace asmjit::x86;

std::optional<Flow> emit_descriptor_op(Ctx& c, const Insn& in) {
  namespace co = callouts;
  const auto& d = in.d;
  const unsigned osize = d.operand_width / 8;
  switch (d.mnemonic) {
    case ZYDIS_MNEMONIC_LGDT:
    case ZYDIS_MNEMONIC_LIDT:
    case ZYDIS_MNEMONIC_SGDT:
    case ZYDIS_MNEMONIC_SIDT: {
      uint32_t op = d.mnemonic == ZYDIS_MNEMONIC_LGDT   ? 0
                    : d.mnemonic == ZYDIS_MNEMONIC_LIDT ? 1
                    : d.mnemonic == ZYDIS_MNEMONIC_SGDT ? 2
                                                        : 3;
      ea_to_r12(c, in);
      emit_callout(c, in, CalloutKind::DescriptorTable, co::desc_table, true,
                   uint32_t(memory_segment(in)) | op << 8);
      return Flow::Continue;
    }
    case ZYDIS_MNEMONIC_LLDT:
    case ZYDIS_MNEMONIC_LTR:
      value_to_r12(c, in, 0, 2);
      emit_callout(c, in, CalloutKind::DescriptorTable, co::lldt_ltr, true,
                   d.mnemonic == ZYDIS_MNEMONIC_LTR);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_SLDT:
    case ZYDIS_MNEMONIC_STR:
    case ZYDIS_MNEMONIC_SMSW: {
      uint32_t which = d.mnemonic == ZYDIS_MNEMONIC_SLDT  ? 0
                       : d.mnemonic == ZYDIS_MNEMONIC_STR ? 1
                                                          : 2;
      const auto& op = in.ops[0];
      uint32_t a1 = which | uint32_t(osize) << 24;
      if (op.type == ZYDIS_OPERAND_TYPE_MEMORY) {
        ea_to_r12(c, in);
        a1 |= 1u << 4 | uint32_t(memory_segment(in)) << 16;
      } else {
        a1 |= guest_gpr(op.reg.value) << 8;
      }
      emit_callout(c, in, CalloutKind::DescriptorTable, co::store_sys, true, a1);
      return Flow::Continue;
    }
    case ZYDIS_MNEMONIC_LAR:
    case ZYDIS_MNEMONIC_LSL:
      value_to_r12(c, in, 1, 2);
      emit_callout(
          c, in, CalloutKind::SelectorQuery, co::selector_query, true,
          (d.mnemonic == ZYDIS_MNEMONIC_LSL) | guest_gpr(in.ops[0].reg.value) << 8 | osize << 16);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_VERR:
    case ZYDIS_MNEMONIC_VERW:
      value_to_r12(c, in, 0, 2);
      emit_callout(c, in, CalloutKind::SelectorQuery, co::selector_query, true,
                   d.mnemonic == ZYDIS_MNEMONIC_VERR ? 2 : 3);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_ARPL: {
      const auto& dst = in.ops[0];
      uint32_t a1 = guest_gpr(in.ops[1].reg.value);
      if (dst.type == ZYDIS_OPERAND_TYPE_MEMORY) {
        ea_to_r12(c, in);
        a1 |= 1u << 16 | uint32_t(memory_segment(in)) << 20;
      } else {
        a1 |= guest_gpr(dst.reg.value) << 8;
      }
      emit_callout(c, in, CalloutKind::SelectorQuery, co::arpl, true, a1);
      return Flow::Continue;
    }
    default:
      break;
  }
  return std::nullopt;
}

}  // namespace bt
