// Segment register loads and stores, far transfers and iret. Loads and transfers call out to
// cpu/ (descriptor checks, the new mode) and end the unit; a store of a selector reads the
// virtual CPU's copy inline.
#include "callouts.h"
#include "engine_core.h"
#include "system_ops.h"

namespace bt {

using namespace asmjit;
using namespace asmjit::x86;

namespace {
// The segment register a register operand names (DS for anything else).
int seg_index(ZydisRegister r) {
  int s = guest_segment(r);
  return s >= 0 ? s : cpu::DS;
}

// mov r/m, sreg: the selector, zero-extended into a 32-bit register or stored as 16 bits.
void emit_store_segment(Ctx& c, const Insn& in) {
  auto& a = c.a;
  int s = seg_index(in.ops[1].reg.value);
  auto sel = vcpu_field(cpu::off::seg_sel + int32_t(s * sizeof(cpu::Segment)), 2);
  const auto& dst = in.ops[0];
  if (dst.type == ZYDIS_OPERAND_TYPE_REGISTER) {
    if (dst.size == 32)
      a.movzx(Gpd(guest_gpr(dst.reg.value)), sel);
    else
      a.mov(Gpw(guest_gpr(dst.reg.value)), sel);
  } else if (addr16(in)) {
    lea_mem_operand(c, in, 12);
    const int seg = segment_override(in);
    if (seg >= 0) add_segment_base(c, seg, r12, r13);
    a.movzx(r8d, sel);
    a.mov(ptr(r12, 0, 2), r8w);
  } else {
    std::vector<uint8_t> b = mem_prefixes(c, in);  // first: it may use r8
    a.movzx(r8d, sel);
    b.insert(b.end(), {0x66, 0x44, 0x89});
    put_modrm_mem(b, in, 0);
    a.embed(b.data(), b.size());
  }
}
}  // namespace

std::optional<Flow> emit_segment_op(Ctx& c, const Insn& in) {
  namespace co = callouts;
  auto& a = c.a;
  const auto& d = in.d;
  const unsigned osize = d.operand_width / 8;
  switch (d.mnemonic) {
    case ZYDIS_MNEMONIC_MOV:
      if (d.opcode_map == ZYDIS_OPCODE_MAP_DEFAULT && d.opcode == 0x8E) {  // mov sreg, r/m16
        value_to_r12(c, in, 1, 2);
        emit_callout(c, in, CalloutKind::SegmentLoad, co::load_segment, true,
                     uint32_t(seg_index(in.ops[0].reg.value)));
        return Flow::End;
      }
      if (d.opcode_map == ZYDIS_OPCODE_MAP_DEFAULT && d.opcode == 0x8C) {  // mov r/m, sreg
        emit_store_segment(c, in);
        return Flow::Continue;
      }
      break;
    case ZYDIS_MNEMONIC_LDS:
    case ZYDIS_MNEMONIC_LES:
    case ZYDIS_MNEMONIC_LFS:
    case ZYDIS_MNEMONIC_LGS:
    case ZYDIS_MNEMONIC_LSS: {
      if (osize != 4) break;
      int dest = d.mnemonic == ZYDIS_MNEMONIC_LDS   ? cpu::DS
                 : d.mnemonic == ZYDIS_MNEMONIC_LES ? cpu::ES
                 : d.mnemonic == ZYDIS_MNEMONIC_LFS ? cpu::FS
                 : d.mnemonic == ZYDIS_MNEMONIC_LGS ? cpu::GS
                                                    : cpu::SS;
      ea_to_r12(c, in);
      emit_callout(c, in, CalloutKind::SegmentLoad, co::load_far_pointer, true,
                   uint32_t(dest) | guest_gpr(in.ops[0].reg.value) << 8 |
                       uint32_t(memory_segment(in)) << 16);
      return Flow::End;
    }
    case ZYDIS_MNEMONIC_JMP:
    case ZYDIS_MNEMONIC_CALL: {
      if (osize != 4) break;
      bool call = d.mnemonic == ZYDIS_MNEMONIC_CALL;
      if (in.ops[0].type == ZYDIS_OPERAND_TYPE_POINTER) {
        a.mov(r12d, imm(in.ops[0].ptr.offset));
        emit_callout(c, in, CalloutKind::FarTransfer, call ? co::far_call : co::far_jmp, true,
                     in.ops[0].ptr.segment);
      } else {
        ea_to_r12(c, in);
        emit_callout(c, in, CalloutKind::FarTransfer, call ? co::far_call_mem : co::far_jmp_mem,
                     true, uint32_t(memory_segment(in)));
      }
      return Flow::End;
    }
    case ZYDIS_MNEMONIC_RET:  // far return (near returns are control flow)
      if (osize != 4) break;
      emit_callout(c, in, CalloutKind::FarTransfer, co::far_ret, true,
                   d.operand_count_visible ? uint32_t(in.ops[0].imm.value.u & 0xffff) : 0);
      return Flow::End;
    case ZYDIS_MNEMONIC_IRETD:
      emit_callout(c, in, CalloutKind::Iret, co::iret);
      return Flow::End;
    default:
      break;
  }
  return std::nullopt;
}

}  // namespace bt
