// Privileged and sensitive instructions (DESIGN §4.1 non-IDENT list): emit_system_op hands
// each to its family (system_ops.h); this file holds the machine-control family. cli/sti at
// CPL 0 are inline byte stores to the virtual IF; everything else calls out to the semantics
// in cpu/. Instructions that can change the mode a translation depends on (segments, CR0, far
// transfers, iret) end the unit, and their callouts always leave to the dispatcher.
#include "system_ops.h"

#include "callouts.h"
#include "engine_core.h"

namespace bt {

using namespace asmjit;
using namespace asmjit::x86;

void value_to_r12(Ctx& c, const Insn& in, int i, unsigned bytes) {
  const auto& op = in.ops[i];
  if (op.type == ZYDIS_OPERAND_TYPE_REGISTER) {
    c.a.mov(r12d, Gpd(guest_gpr(op.reg.value)));
  } else {
    load_mem_operand(c, in, 12, bytes);
  }
}

void ea_to_r12(Ctx& c, const Insn& in) {
  lea_mem_operand(c, in, 12);
}

Flow emit_system_op(Ctx& c, const Insn& in, bool& handled) {
  using Family = std::optional<Flow> (*)(Ctx&, const Insn&);
  for (Family family :
       {emit_machine_op, emit_descriptor_op, emit_segment_op, emit_exception_op, emit_bcd_op}) {
    if (std::optional<Flow> flow = family(c, in)) {
      handled = true;
      return *flow;
    }
  }
  handled = false;
  return Flow::Continue;
}

namespace {
// cli/sti: at CPL 0, inline stores to the virtual IF and the pending word; at other CPLs a
// callout (cpu/ checks IOPL).
void emit_cli_sti(Ctx& c, const Insn& in) {
  auto& a = c.a;
  const bool sti = in.d.mnemonic == ZYDIS_MNEMONIC_STI;
  if (c.cpl != 0) {
    emit_callout(c, in, CalloutKind::CliSti, sti ? callouts::sti : callouts::cli);
  } else if (!sti) {
    a.mov(vcpu_field(cpu::off::if_flag, 1), 0);
    a.mov(vcpu_field(cpu::off::pending_irq, 1), 0);
  } else {
    // The interrupt shadow only when IF goes from 0 to 1: irq_shadow = 1 - IF, flag-free
    // (guest flags are live): ~IF + 2 is 1 for IF = 0 and 0 for IF = 1.
    a.movzx(r8d, vcpu_field(cpu::off::if_flag, 1));
    a.not_(r8d);
    a.lea(r8d, ptr(r8, 2));
    a.mov(vcpu_field(cpu::off::irq_shadow, 1), r8b);
    a.mov(vcpu_field(cpu::off::if_flag, 1), 1);
    a.movzx(r8d, vcpu_field(cpu::off::irq_line, 1));
    a.mov(vcpu_field(cpu::off::pending_irq, 1), r8b);
  }
}

// mov crN/drN: ModRM.reg = the control/debug register, ModRM.rm = the GPR. A write to a
// control register ends the unit (the mode may change).
Flow emit_mov_cr_dr(Ctx& c, const Insn& in) {
  namespace co = callouts;
  const auto& d = in.d;
  const uint32_t n = d.raw.modrm.reg, reg = d.raw.modrm.rm;
  const bool to = d.opcode & 2, dr = d.opcode & 1;
  const CalloutKind kind = dr ? CalloutKind::DebugReg : CalloutKind::ControlReg;
  if (to) {
    c.a.mov(r12d, Gpd(reg));
    emit_callout(c, in, kind, dr ? co::mov_to_dr : co::mov_to_cr, true, n);
    return dr ? Flow::Continue : Flow::End;
  }
  emit_callout(c, in, kind, dr ? co::mov_from_dr : co::mov_from_cr, true, n | reg << 8);
  return Flow::Continue;
}
}  // namespace

std::optional<Flow> emit_machine_op(Ctx& c, const Insn& in) {
  namespace co = callouts;
  const auto& d = in.d;
  switch (d.mnemonic) {
    case ZYDIS_MNEMONIC_CLI:
    case ZYDIS_MNEMONIC_STI:
      emit_cli_sti(c, in);
      return Flow::Continue;  // after sti, the translator ends the unit one instruction later
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
    case ZYDIS_MNEMONIC_MOV:
      // mov crN/drN (0F 20-23); the other movs are not this family's.
      if (d.opcode_map == ZYDIS_OPCODE_MAP_0F && d.opcode >= 0x20 && d.opcode <= 0x23)
        return emit_mov_cr_dr(c, in);
      break;
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
    default:
      break;
  }
  return std::nullopt;
}

}  // namespace bt
