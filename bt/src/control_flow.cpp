// Near control transfers. Direct targets are chained: each site is a jmp/jcc rel32 that first
// points at an exit stub and is patched to the target unit once it exists. Indirect targets go
// through the jump-cache probe in the runtime (lookup). call/ret move 4-byte slots on the guest
// stack through 32-bit esp, never with host call/ret.
#include "engine_core.h"
#include "translator.h"

namespace bt {

using namespace asmjit;
using namespace asmjit::x86;

void emit_chain(Ctx& c, uint32_t target) {
  Label site = c.a.newLabel();
  c.a.db(0xE9);
  c.a.bind(site);
  c.a.dd(0);
  c.chains.push_back({site, target});
}

void emit_jump_to_lookup(Ctx& c) {
  if (c.core.opt.indirect == Options::IndirectBranch::Inline) return emit_inline_cache(c);
  c.a.jmp(Imm(uint64_t(reinterpret_cast<uintptr_t>(c.rt.lookup))));
}

void emit_inline_cache(Ctx& c) {
  // Target EIP in r8d. The site's slot holds the key (generation tag | EIP) and host entry of
  // its last target; compare flag-free (guest flags are live) as the table probe does.
  auto& a = c.a;
  Label hit = a.newLabel();
  IcSlot* slot = c.ic_slots.emplace_back(c.core.inline_caches.take());
  a.mov(r13, imm(uint64_t(reinterpret_cast<uintptr_t>(slot))));
  a.mov(r11, vcpu_field(cpu::off::jc_tag, 8));
  a.lea(r11, ptr(r11, r8));
  a.mov(r9, ptr(r13, kIcKey));
  a.not_(r9);
  a.lea(r9, ptr(r9, r11, 0, 1));  // r9 = key - slot.key
  a.mov(r12, rcx);
  a.mov(rcx, r9);
  a.jecxz(rcx, hit);
  a.mov(rcx, r12);
  a.jmp(Imm(uint64_t(reinterpret_cast<uintptr_t>(c.rt.ic_miss))));
  a.bind(hit);
  a.mov(rcx, r12);
  a.mov(r9, ptr(r13, kIcHits));
  a.lea(r9, ptr(r9, 1));
  a.mov(ptr(r13, kIcHits), r9);
  a.jmp(ptr(r13, kIcHost));
}

namespace {
uint32_t branch_target(const Insn& in) {
  ZyanU64 t = 0;
  ZydisCalcAbsoluteAddress(&in.d, &in.ops[0], in.eip, &t);
  return uint32_t(t);
}

// A direct jmp/call the unit goes on through (superblocks): no code for the jump itself.
bool fold(Ctx& c, uint32_t target) {
  if (!c.may_fold || !c.may_fold(target)) return false;
  c.fold_to = target;
  return true;
}

// Target of an indirect jmp/call into r8d (before the call pushes: `call [esp]` reads first).
void load_indirect_target(Ctx& c, const Insn& in) {
  const auto& op = in.ops[0];
  if (op.type == ZYDIS_OPERAND_TYPE_REGISTER) {
    c.a.mov(r8d, Gpd(guest_gpr(op.reg.value)));
  } else {
    load_mem_operand(c, in, 8, 4);
  }
}

// loop/loope/loopne/jcxz with a 0x67 prefix count in CX; 64-bit mode has no such form. CX is
// decremented with a 16-bit register write and tested through rcx with jrcxz: no flags change.
void emit_cx_loop(Ctx& c, const Insn& in, uint32_t target) {
  auto& a = c.a;
  const uint8_t op = in.d.opcode;  // E0 loopne, E1 loope, E2 loop, E3 jcxz
  Label zero = a.newLabel(), nonzero = a.newLabel(), fall = a.newLabel();
  if (op != 0xE3) {
    a.lea(r9d, ptr(rcx, -1));
    a.mov(cx, r9w);
  }
  a.mov(r9, rcx);
  a.movzx(ecx, r9w);
  a.jecxz(rcx, zero);
  a.mov(rcx, r9);
  a.jmp(nonzero);
  a.bind(zero);
  a.mov(rcx, r9);
  // CX == 0: jcxz branches, the loops fall through.
  if (op == 0xE3)
    emit_chain(c, target);
  else
    a.jmp(fall);
  a.bind(nonzero);
  if (op == 0xE1) a.jne(fall);  // loope: also needs ZF = 1
  if (op == 0xE0) a.je(fall);   // loopne: also needs ZF = 0
  if (op == 0xE3)
    a.jmp(fall);
  else
    emit_chain(c, target);
  a.bind(fall);
  emit_chain(c, in.next());
}

// The condition code (0-15) of a jcc, from its opcode.
uint8_t condition(const Insn& in) {
  return in.d.opcode & 0xf;
}
}  // namespace

Flow emit_control_flow(Ctx& c, const Insn& in, bool& handled) {
  auto& a = c.a;
  handled = true;
  const auto& d = in.d;
  const auto cat = d.meta.category;
  const bool branch = cat == ZYDIS_CATEGORY_UNCOND_BR || cat == ZYDIS_CATEGORY_COND_BR ||
                      cat == ZYDIS_CATEGORY_CALL || cat == ZYDIS_CATEGORY_RET;
  if (!branch || d.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR) {
    handled = false;
    return Flow::Continue;
  }
  if (d.operand_width != 32 && d.meta.category != ZYDIS_CATEGORY_COND_BR) {
    emit_unsupported(c, in, "16-bit near control transfer");
    return Flow::End;
  }
  switch (d.mnemonic) {
    case ZYDIS_MNEMONIC_JMP:
      if (in.ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
        if (fold(c, branch_target(in))) return Flow::Continue;
        emit_chain(c, branch_target(in));
      } else {
        load_indirect_target(c, in);
        emit_jump_to_lookup(c);
      }
      return Flow::End;
    case ZYDIS_MNEMONIC_CALL:
      if (in.ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
        a.mov(Mem(esp, -4, 4), imm(in.next()));
        a.lea(esp, Mem(esp, -4, 4));
        if (fold(c, branch_target(in))) return Flow::Continue;
        emit_chain(c, branch_target(in));
      } else {
        load_indirect_target(c, in);
        a.mov(Mem(esp, -4, 4), imm(in.next()));
        a.lea(esp, Mem(esp, -4, 4));
        emit_jump_to_lookup(c);
      }
      return Flow::End;
    case ZYDIS_MNEMONIC_RET: {
      int32_t pop = d.operand_count_visible ? int32_t(in.ops[0].imm.value.u & 0xffff) : 0;
      a.mov(r8d, Mem(esp, 0, 4));
      a.lea(esp, Mem(esp, 4 + pop, 4));
      emit_jump_to_lookup(c);
      return Flow::End;
    }
    case ZYDIS_MNEMONIC_LOOP:
    case ZYDIS_MNEMONIC_LOOPE:
    case ZYDIS_MNEMONIC_LOOPNE:
    case ZYDIS_MNEMONIC_JECXZ:
    case ZYDIS_MNEMONIC_JCXZ: {
      if (d.address_width != 32) {
        emit_cx_loop(c, in, branch_target(in));
        return Flow::End;
      }
      // 67 E2 05: loop on ecx with a rel8 over the fall-through jmp to the taken jmp.
      uint8_t op = d.opcode;  // E0 loopne, E1 loope, E2 loop, E3 jecxz
      uint8_t bytes[3] = {0x67, op, 5};
      a.embed(bytes, 3);
      emit_chain(c, in.next());
      emit_chain(c, branch_target(in));
      if (branch_target(in) <= in.eip) c.loop_exit = in.next();
      return Flow::End;
    }
    default:
      break;
  }
  if (d.meta.category == ZYDIS_CATEGORY_COND_BR) {
    if (d.operand_width != 32) {
      emit_unsupported(c, in, "jcc with a 16-bit operand size (truncates EIP)");
      return Flow::End;
    }
    Label site = a.newLabel();
    a.db(0x0F);
    a.db(uint8_t(0x80 | condition(in)));
    a.bind(site);
    a.dd(0);
    c.chains.push_back({site, branch_target(in)});
    emit_chain(c, in.next());
    if (branch_target(in) <= in.eip) c.loop_exit = in.next();
    return Flow::End;
  }
  handled = false;
  return Flow::Continue;
}

}  // namespace bt
