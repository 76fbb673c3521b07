// Privileged and sensitive instructions (DESIGN §4.1 non-IDENT list). cli/sti at CPL 0 are
// inline byte stores to the virtual IF; everything else calls out to the semantics in cpu/.
// Instructions that can change the mode a translation depends on (segments, CR0, far
// transfers, iret) end the unit, and their callouts always leave to the dispatcher.
#include "callouts.h"
#include "engine_core.h"
#include "translator.h"

namespace bt {

using namespace asmjit;
using namespace asmjit::x86;

namespace {
// The segment register a register operand names (DS for anything else).
int seg_index(ZydisRegister r) {
  int s = guest_segment(r);
  return s >= 0 ? s : cpu::DS;
}

// r12d = the 16- or 32-bit value of operand `i` (register or memory).
void value_to_r12(Ctx& c, const Insn& in, int i, unsigned bytes) {
  const auto& op = in.ops[i];
  if (op.type == ZYDIS_OPERAND_TYPE_REGISTER) {
    c.a.mov(r12d, Gpd(guest_gpr(op.reg.value)));
  } else {
    load_mem_operand(c, in, 12, bytes);
  }
}

// r12d = offset of the memory operand (its segment base is added by the callout).
void ea_to_r12(Ctx& c, const Insn& in) {
  lea_mem_operand(c, in, 12);
}

void static_exception(Ctx& c, const Insn& in, uint8_t vector, bool software) {
  StaticExit e;
  e.kind = StaticExit::Kind::Exception;
  e.vector = vector;
  e.software = software;
  emit_static_exit(c, in, e);
}
}  // namespace

Flow emit_system_op(Ctx& c, const Insn& in, bool& handled) {
  namespace co = callouts;
  auto& a = c.a;
  const auto& d = in.d;
  handled = true;
  const unsigned osize = d.operand_width / 8;
  switch (d.mnemonic) {
    case ZYDIS_MNEMONIC_CLI:
      if (c.cpl == 0) {
        a.mov(vcpu_field(cpu::off::if_flag, 1), 0);
        a.mov(vcpu_field(cpu::off::pending_irq, 1), 0);
      } else {
        emit_callout(c, in, CalloutKind::CliSti, co::cli);
      }
      return Flow::Continue;
    case ZYDIS_MNEMONIC_STI:
      if (c.cpl == 0) {
        // The interrupt shadow only when IF goes from 0 to 1: irq_shadow = 1 - IF, flag-free
        // (guest flags are live): ~IF + 2 is 1 for IF = 0 and 0 for IF = 1.
        a.movzx(r8d, vcpu_field(cpu::off::if_flag, 1));
        a.not_(r8d);
        a.lea(r8d, ptr(r8, 2));
        a.mov(vcpu_field(cpu::off::irq_shadow, 1), r8b);
        a.mov(vcpu_field(cpu::off::if_flag, 1), 1);
        a.movzx(r8d, vcpu_field(cpu::off::irq_line, 1));
        a.mov(vcpu_field(cpu::off::pending_irq, 1), r8b);
      } else {
        emit_callout(c, in, CalloutKind::CliSti, co::sti);
      }
      return Flow::Continue;  // the translator ends the unit one instruction later
    case ZYDIS_MNEMONIC_HLT:
      emit_callout(c, in, CalloutKind::Halt, co::hlt);
      return Flow::End;
    case ZYDIS_MNEMONIC_IN:
    case ZYDIS_MNEMONIC_OUT: {
      bool is_in = d.mnemonic == ZYDIS_MNEMONIC_IN;
      const auto& data = in.ops[is_in ? 0 : 1];
      const auto& port = in.ops[is_in ? 1 : 0];
      uint32_t a1 = data.size / 8;
      if (port.type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
        a1 |= uint32_t(port.imm.value.u & 0xff) << 8;
      else
        a1 |= 1u << 31;
      emit_callout(c, in, is_in ? CalloutKind::PortIn : CalloutKind::PortOut,
                   is_in ? co::port_in : co::port_out, true, a1);
      return Flow::Continue;
    }
    case ZYDIS_MNEMONIC_INSB:
    case ZYDIS_MNEMONIC_INSW:
    case ZYDIS_MNEMONIC_INSD:
    case ZYDIS_MNEMONIC_OUTSB:
    case ZYDIS_MNEMONIC_OUTSW:
    case ZYDIS_MNEMONIC_OUTSD:
      emit_string_io(c, in);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_CPUID:
      emit_callout(c, in, CalloutKind::Cpuid, co::cpuid);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_RDTSC:
      emit_callout(c, in, CalloutKind::Rdtsc, co::rdtsc);
      return Flow::Continue;
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
    case ZYDIS_MNEMONIC_LMSW:
      value_to_r12(c, in, 0, 2);
      emit_callout(c, in, CalloutKind::ControlReg, co::lmsw);
      return Flow::End;
    case ZYDIS_MNEMONIC_CLTS:
      emit_callout(c, in, CalloutKind::ControlReg, co::clts);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_INVLPG:
      ea_to_r12(c, in);
      emit_callout(c, in, CalloutKind::CacheTlb, co::invlpg, true, uint32_t(memory_segment(in)));
      return Flow::End;
    case ZYDIS_MNEMONIC_WBINVD:
    case ZYDIS_MNEMONIC_INVD:
      emit_callout(c, in, CalloutKind::CacheTlb, co::cache_op);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_RDMSR:
      emit_callout(c, in, CalloutKind::Msr, co::rdmsr);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_WRMSR:
      emit_callout(c, in, CalloutKind::Msr, co::wrmsr);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_RDPMC:
      emit_callout(c, in, CalloutKind::Msr, co::rdpmc);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_MOV: {
      if (d.opcode_map == ZYDIS_OPCODE_MAP_0F && d.opcode >= 0x20 && d.opcode <= 0x23) {
        // mov crN/drN: ModRM.reg = the control/debug register, ModRM.rm = the GPR.
        uint32_t n = d.raw.modrm.reg, reg = d.raw.modrm.rm;
        bool to = d.opcode & 2, dr = d.opcode & 1;
        if (to) {
          a.mov(r12d, Gpd(reg));
          emit_callout(c, in, dr ? CalloutKind::DebugReg : CalloutKind::ControlReg,
                       dr ? co::mov_to_dr : co::mov_to_cr, true, n);
          return dr ? Flow::Continue : Flow::End;
        }
        emit_callout(c, in, dr ? CalloutKind::DebugReg : CalloutKind::ControlReg,
                     dr ? co::mov_from_dr : co::mov_from_cr, true, n | reg << 8);
        return Flow::Continue;
      }
      if (d.opcode_map == ZYDIS_OPCODE_MAP_DEFAULT && d.opcode == 0x8E) {  // mov sreg, r/m16
        value_to_r12(c, in, 1, 2);
        emit_callout(c, in, CalloutKind::SegmentLoad, co::load_segment, true,
                     uint32_t(seg_index(in.ops[0].reg.value)));
        return Flow::End;
      }
      if (d.opcode_map == ZYDIS_OPCODE_MAP_DEFAULT && d.opcode == 0x8C) {  // mov r/m, sreg
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
        return Flow::Continue;
      }
      break;
    }
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
  handled = false;
  return Flow::Continue;
}

}  // namespace bt
