// push/pop/pusha/popa/pushf/enter/leave. In 64-bit mode these would move 8-byte slots on rsp,
// so each becomes stores/loads through 32-bit esp plus a flag-free `lea esp`. Every expansion
// is restartable: all loads and stores that can fault come before esp or another guest
// register changes, so a fault leaves the guest state as it was before the instruction.
#include "engine_core.h"
#include "translator.h"

namespace bt {

using namespace asmjit;
using namespace asmjit::x86;

namespace {
Mem stack(int32_t disp, uint32_t size = 4) {
  return Mem(esp, disp, size);
}

Gp host_gpd(ZydisRegister r) {
  return Gpd(guest_gpr(r));
}
Gp host_gpw(ZydisRegister r) {
  return Gpw(guest_gpr(r));
}
Gpw bp_reg() {
  return Gpw(uint32_t(cpu::EBP));
}

// The explicit operand only: pop's hidden stack operand is [esp] too.
bool mem_base_is_esp(const Insn& in) {
  return in.ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY && in.ops[0].mem.base == ZYDIS_REGISTER_ESP;
}
}  // namespace

uint32_t pop_segment_callout(void* vp, uint64_t a0, uint64_t a1);

static void emit_push(Ctx& c, const Insn& in) {
  auto& a = c.a;
  const auto& op = in.ops[0];
  const unsigned size = in.d.operand_width / 8;
  if (op.type == ZYDIS_OPERAND_TYPE_REGISTER) {
    int s = guest_segment(op.reg.value);
    if (s >= 0) {
      a.movzx(r8d, vcpu_field(cpu::off::seg_sel + int32_t(s * sizeof(cpu::Segment)), 2));
      // Recent CPUs store only the selector's 16 bits of a 32-bit segment push.
      a.mov(stack(-int32_t(size), 2), r8w);
    } else if (size == 4) {
      a.mov(stack(-4), host_gpd(op.reg.value));
    } else {
      a.mov(stack(-2, 2), host_gpw(op.reg.value));
    }
  } else if (op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
    if (size == 4)
      a.mov(stack(-4), imm(int32_t(op.imm.value.s)));
    else
      a.mov(stack(-2, 2), imm(int16_t(op.imm.value.s)));
  } else {
    load_mem_operand(c, in, 8, size);
    if (size == 4)
      a.mov(stack(-4), r8d);
    else
      a.mov(stack(-2, 2), r8w);
  }
  a.lea(esp, stack(-int32_t(size)));
}

// Returns true if the instruction ends the unit (pop of a segment register).
static bool emit_pop(Ctx& c, const Insn& in) {
  auto& a = c.a;
  const auto& op = in.ops[0];
  const unsigned size = in.d.operand_width / 8;
  if (op.type == ZYDIS_OPERAND_TYPE_REGISTER) {
    int s = guest_segment(op.reg.value);
    if (s >= 0) {
      a.movzx(r12d, stack(0, 2));
      emit_callout(c, in, CalloutKind::SegmentLoad, pop_segment_callout, true,
                   uint32_t(s) | (size << 8));
      return true;
    }
    if (size == 4) {
      Gp r = host_gpd(op.reg.value);
      a.mov(r, stack(0));
      if (op.reg.value != ZYDIS_REGISTER_ESP) a.lea(esp, stack(4));
    } else {
      Gp r = host_gpw(op.reg.value);
      a.mov(r, stack(0, 2));
      if (op.reg.value != ZYDIS_REGISTER_SP) a.lea(esp, stack(2));
    }
    return false;
  }
  if (addr16(in)) {
    // pop [m16]: the store (which may fault) before esp moves; no esp base in 16-bit forms.
    a.mov(size == 4 ? Gp(r8d) : Gp(r8w), stack(0, size));
    lea_mem_operand(c, in, 12);
    const int seg = segment_override(in);
    if (seg >= 0) add_segment_base(c, seg, r12, r13);
    a.mov(ptr(r12, 0, size), size == 4 ? Gp(r8d) : Gp(r8w));
    a.lea(esp, stack(int32_t(size)));
    return false;
  }
  // pop [mem]: an esp base is the value after the pop (SDM POP). The prefixes first: setting
  // the host GS base for an fs:/gs: destination uses r8.
  std::vector<uint8_t> b = mem_prefixes(c, in);
  a.mov(size == 4 ? Gp(r8d) : Gp(r8w), stack(0, size));
  if (size == 2) b.push_back(0x66);
  b.push_back(0x44);
  b.push_back(0x89);
  put_modrm_mem(b, in, 0, mem_base_is_esp(in) ? int32_t(size) : 0);
  a.embed(b.data(), b.size());
  a.lea(esp, stack(int32_t(size)));
  return false;
}

// size: 4 (pushad) or 2 (pusha with a 0x66 prefix).
static void emit_pusha(Ctx& c, int size) {
  auto& a = c.a;
  // Order: eax ecx edx ebx (original esp) ebp esi edi, from esp-size downwards.
  for (int i = 0; i < 8; ++i) {
    if (size == 4)
      a.mov(stack(-4 * (i + 1)), Gpd(uint32_t(i)));
    else
      a.mov(stack(-2 * (i + 1), 2), Gpw(uint32_t(i)));
  }
  a.lea(esp, stack(-8 * size));
}

static void emit_popa(Ctx& c, int size) {
  auto& a = c.a;
  a.mov(r8d, stack(7 * size, uint32_t(size)));  // probe both ends before any register changes
  a.mov(r8d, stack(0, uint32_t(size)));
  for (int i = 7; i >= 0; --i) {
    if (i == cpu::ESP) continue;
    if (size == 4)
      a.mov(Gpd(uint32_t(i)), stack(4 * (7 - i)));
    else
      a.mov(Gpw(uint32_t(i)), stack(2 * (7 - i), 2));
  }
  a.lea(esp, stack(8 * size));
}

static void emit_pushf(Ctx& c, unsigned size) {
  auto& a = c.a;
  // Guest EFLAGS = host arithmetic flags + DF, the rest from the vCPU (IF is virtual).
  a.mov(r8, rsp);
  a.lea(rsp, vcpu_field(cpu::off::scratch_top, 8));
  a.pushfq();
  a.mov(r9, ptr(rsp));
  a.mov(r10d, vcpu_field(cpu::off::eflags));
  a.and_(r10d, ~(kHostFlagsMask | cpu::fl::IF | cpu::fl::VM | cpu::fl::RF));
  a.and_(r9d, kHostFlagsMask);
  a.or_(r10d, r9d);
  a.movzx(r11d, vcpu_field(cpu::off::if_flag, 1));
  a.shl(r11d, 9);
  a.or_(r10d, r11d);
  a.popfq();  // the host flags as they were
  a.mov(rsp, r8);
  if (size == 4)
    a.mov(stack(-4), r10d);
  else
    a.mov(stack(-2, 2), r10w);
  a.lea(esp, stack(-int32_t(size)));
}

// size: 4, or 2 with a 0x66 prefix (then only BP changes; the stack is still 32-bit).
static void emit_enter(Ctx& c, const Insn& in, int size) {
  auto& a = c.a;
  const int32_t frame = int32_t(in.ops[0].imm.value.u & 0xffff);
  const int32_t level = int32_t(in.ops[1].imm.value.u & 31);
  const uint32_t us = uint32_t(size);
  Gp bp = size == 4 ? Gp(ebp) : Gp(bp_reg());
  Gp t = size == 4 ? Gp(r8d) : Gp(r8w);
  Gp u = size == 4 ? Gp(r9d) : Gp(r9w);
  a.mov(stack(-size, us), bp);
  a.lea(r8d, stack(-size));  // frame_temp
  for (int32_t i = 1; i < level; ++i) {
    a.mov(u, Mem(ebp, -size * i, us));
    a.mov(stack(-size - size * i, us), u);
  }
  if (level > 0) a.mov(stack(-size - size * level, us), t);
  a.mov(bp, t);
  a.lea(esp, stack(-size - size * level - frame));
}

static void emit_leave(Ctx& c, int size) {
  auto& a = c.a;
  if (size == 4) {
    a.mov(r8d, Mem(ebp, 0, 4));
    a.lea(esp, Mem(ebp, 4, 4));
    a.mov(ebp, r8d);
  } else {
    a.mov(r8w, Mem(ebp, 0, 2));
    a.lea(esp, Mem(ebp, 2, 4));
    a.mov(bp_reg(), r8w);
  }
}

uint32_t popf_callout(void* vp, uint64_t a0, uint64_t a1);

Flow emit_stack_op(Ctx& c, const Insn& in, bool& handled) {
  handled = true;
  const unsigned size = in.d.operand_width / 8;
  switch (in.d.mnemonic) {
    case ZYDIS_MNEMONIC_PUSH:
      emit_push(c, in);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_POP:
      return emit_pop(c, in) ? Flow::End : Flow::Continue;
    case ZYDIS_MNEMONIC_PUSHAD:
      emit_pusha(c, 4);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_POPAD:
      emit_popa(c, 4);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_PUSHA:
      emit_pusha(c, 2);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_POPA:
      emit_popa(c, 2);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_PUSHFD:
      emit_pushf(c, 4);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_PUSHF:
      emit_pushf(c, 2);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_POPFD:
    case ZYDIS_MNEMONIC_POPF:
      if (size == 4)
        c.a.mov(r12d, stack(0));
      else
        c.a.movzx(r12d, stack(0, 2));
      c.a.lea(esp, stack(int32_t(size)));
      emit_callout(c, in, CalloutKind::Popf, popf_callout, true, size);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_ENTER:
      emit_enter(c, in, int(size));
      return Flow::Continue;
    case ZYDIS_MNEMONIC_LEAVE:
      emit_leave(c, int(size));
      return Flow::Continue;
    default:
      break;
  }
  handled = false;
  return Flow::Continue;
}

}  // namespace bt
