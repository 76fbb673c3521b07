// 16-bit addressing (a 0x67 prefix in 32-bit code). 64-bit mode has no 16-bit addressing, so
// the offset — [bx|bp] + [si|di] + displacement, modulo 64 KiB — is computed into a scratch
// register with a flag-free lea and movzx, an fs:/gs: base is added in 32 bits (it wraps at
// 4 GiB; CS/DS/ES/SS are flat in translated code), and the instruction runs on that window
// address as `67 [r12d]`: a 32-bit host address, so whatever the form, its access stays in the
// window and its guard, as for 32-bit addressing. Exact forms may instead be redirected by
// watched_write.cpp (lea_mem_operand gives it the 16-bit offset). Forms that cannot take a REX
// prefix (ah..bh operands) get the address patched into a disp32; bt* with a register bit offset
// add the offset's whole part before the 64 KiB wrap, as the part does. String instructions
// are in string16.cpp.
#include "engine_core.h"
#include "translator.h"

namespace bt {

using namespace asmjit;
using namespace asmjit::x86;

namespace {
// The instruction's explicit memory operand (ModRM or moffs), or nullptr.
const ZydisDecodedOperand* explicit_mem(const Insn& in) {
  for (unsigned i = 0; i < in.d.operand_count; ++i) {
    const auto& op = in.ops[i];
    if (op.type == ZYDIS_OPERAND_TYPE_MEMORY && op.visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT)
      return &op;
  }
  return nullptr;
}

Mem ea16_sum(const ZydisDecodedOperand& op) {
  const auto& m = op.mem;
  const int32_t disp = int32_t(m.disp.value);
  auto reg = [](ZydisRegister r) { return Gpq(guest_gpr(r)); };  // bx -> rbx ...
  if (m.base != ZYDIS_REGISTER_NONE && m.index != ZYDIS_REGISTER_NONE)
    return ptr(reg(m.base), reg(m.index), 0, disp);
  if (m.base != ZYDIS_REGISTER_NONE) return ptr(reg(m.base), disp);
  return ptr(reg(m.index), disp);
}

bool names_high_byte(const Insn& in) {
  for (unsigned i = 0; i < in.d.operand_count; ++i) {
    if (in.ops[i].type != ZYDIS_OPERAND_TYPE_REGISTER) continue;
    const auto r = in.ops[i].reg.value;
    if (r == ZYDIS_REGISTER_AH || r == ZYDIS_REGISTER_CH || r == ZYDIS_REGISTER_DH ||
        r == ZYDIS_REGISTER_BH)
      return true;
  }
  return false;
}

bool bit_test_register_offset(const Insn& in) {
  const auto m = in.d.mnemonic;
  return (m == ZYDIS_MNEMONIC_BT || m == ZYDIS_MNEMONIC_BTS || m == ZYDIS_MNEMONIC_BTR ||
          m == ZYDIS_MNEMONIC_BTC) &&
         in.ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER;
}

// r12 = linear address of fs:/gs: + r12 (nothing to add for the flat segments).
void add_override_base(Ctx& c, const Insn& in) {
  const int seg = segment_override(in);
  if (seg >= 0) add_segment_base(c, seg, r12, r13);
}

// bt/bts/btr/btc [m16], reg: the bit offset is signed, its whole part (in operand-sized units)
// moves the address before the 64 KiB wrap (SDM BT; Bochs and QEMU do the same). The host
// runs the instruction at that address with the offset's remainder in r8d. The arithmetic
// needs flags, so the guest's are kept on the vCPU scratch stack meanwhile.
void emit_bit_test16(Ctx& c, const Insn& in) {
  auto& a = c.a;
  const bool wide = in.d.operand_width == 32;
  const unsigned shift = wide ? 5 : 4;
  a.mov(r10, rsp);
  a.lea(rsp, vcpu_field(cpu::off::scratch_top, 8));
  a.pushfq();
  if (wide)
    a.mov(r8d, Gpd(guest_gpr(in.ops[1].reg.value)));
  else
    a.movsx(r8d, Gpw(guest_gpr(in.ops[1].reg.value)));
  a.mov(r9d, r8d);
  a.sar(r9d, shift);
  a.shl(r9d, wide ? 2 : 1);
  a.lea(r12d, ea16_sum(*explicit_mem(in)));
  a.add(r12d, r9d);
  a.movzx(r12d, r12w);
  a.and_(r8d, (1u << shift) - 1);
  a.popfq();
  a.mov(rsp, r10);
  add_override_base(c, in);
  const Mem m = ptr(r12, 0, wide ? 4 : 2);
  const Gp off = wide ? Gp(r8d) : Gp(r8w);
  const bool lock = in.d.attributes & ZYDIS_ATTRIB_HAS_LOCK;
  if (lock) a.lock();
  switch (in.d.mnemonic) {
    case ZYDIS_MNEMONIC_BT:
      a.bt(m, off);
      break;
    case ZYDIS_MNEMONIC_BTS:
      a.bts(m, off);
      break;
    case ZYDIS_MNEMONIC_BTR:
      a.btr(m, off);
      break;
    default:
      a.btc(m, off);
      break;
  }
  c.ident = true;
}

// xlat: al = [ds:(bx + al) mod 64 KiB].
void emit_xlat16(Ctx& c, const Insn& in) {
  auto& a = c.a;
  a.movzx(r12d, al);
  a.lea(r12d, ptr(r12, rbx));
  a.movzx(r12d, r12w);
  add_override_base(c, in);
  a.mov(al, byte_ptr(r12));
  c.ident = true;
}
}  // namespace

bool addr16(const Insn& in) {
  return in.d.address_width == 16;
}

void ea16_to(Ctx& c, const Insn& in, int host_reg) {
  const ZydisDecodedOperand* op = explicit_mem(in);
  if (!op) throw std::logic_error("16-bit effective address of an instruction without one");
  const Gpd dst{uint32_t(host_reg)};
  const auto& m = op->mem;
  if (m.base == ZYDIS_REGISTER_NONE && m.index == ZYDIS_REGISTER_NONE) {
    c.a.mov(dst, imm(uint32_t(m.disp.value) & 0xffff));  // [disp16], moffs16
    return;
  }
  c.a.lea(dst, ea16_sum(*op));
  c.a.movzx(dst, Gpw(uint32_t(host_reg)));
}

bool emit_lea16(Ctx& c, const Insn& in) {
  if (in.d.mnemonic != ZYDIS_MNEMONIC_LEA) return false;
  const auto& dst = in.ops[0];
  ea16_to(c, in, 8);
  const uint32_t id = guest_gpr(dst.reg.value);
  if (dst.size == 32)
    c.a.mov(Gpd(id), r8d);
  else
    c.a.mov(Gpw(id), r8w);
  return true;
}

void emit_ident_addr16(Ctx& c, const Insn& in) {
  if (in.d.meta.category == ZYDIS_CATEGORY_STRINGOP) return emit_string16(c, in);
  if (in.d.mnemonic == ZYDIS_MNEMONIC_XLAT) return emit_xlat16(c, in);
  if (bit_test_register_offset(in)) return emit_bit_test16(c, in);
  ea16_to(c, in, 12);
  add_override_base(c, in);
  // ah..bh cannot be encoded next to r12 (a REX prefix makes them spl..dil): their forms get
  // the address patched into the instruction's own disp32.
  emit_ident_at(c, in, names_high_byte(in) ? MemAt::PatchedDisp32 : MemAt::WindowR12);
}

}  // namespace bt
