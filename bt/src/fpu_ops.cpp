// x87, MMX and SSE instructions: copied to the host like IDENT instructions (their encodings
// mean the same in 64-bit mode; memory operands are rebased as usual), run on the host FPU
// with the guest's state loaded in it. The state is loaded lazily: the first instruction of
// each class (cpu::FpuClass) in a unit tests one byte of the vCPU, which is 0 only while the
// guest state is live and CR0/CR4 allow that class; otherwise it goes to the FPU gate, which
// raises #NM/#UD or loads the state (Runtime::fpu_callout). Units without FPU instructions
// pay nothing. Instructions that write the state to guest memory (fnsave, fnstenv, fxsave) or
// must check what they load against the part (fxrstor, ldmxcsr: MXCSR reserved bits) are
// callouts, so that the images are the guest's (pointers mapped back to guest addresses).
#include "callouts.h"
#include "cpu/fpu_state.h"
#include "engine_core.h"
#include "translator.h"

namespace bt {

namespace {
using namespace asmjit;
using namespace asmjit::x86;
using cpu::FpuClass;

bool has_xmm_operand(const Insn& in) {
  for (unsigned i = 0; i < in.d.operand_count; ++i)
    if (in.ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER &&
        ZydisRegisterGetClass(in.ops[i].reg.value) == ZYDIS_REGCLASS_XMM)
      return true;
  return false;
}

// The class whose CR0/CR4 rules apply, for the instructions copied to the host.
FpuClass class_of(const Insn& in) {
  if (in.d.mnemonic == ZYDIS_MNEMONIC_FWAIT) return FpuClass::Wait;
  switch (in.d.meta.isa_ext) {
    case ZYDIS_ISA_EXT_X87:
      return FpuClass::X87;
    case ZYDIS_ISA_EXT_MMX:
      return has_xmm_operand(in) ? FpuClass::Sse : FpuClass::Mmx;
    default:
      return FpuClass::Sse;
  }
}

// Instructions after which FSW.ES may be clear whatever it was (FERR# dropping).
bool resets_x87_status(ZydisMnemonic m) {
  return m == ZYDIS_MNEMONIC_FNCLEX || m == ZYDIS_MNEMONIC_FNINIT || m == ZYDIS_MNEMONIC_FRSTOR ||
         m == ZYDIS_MNEMONIC_FLDENV;
}

// Hints that touch no FPU state and no CR0/CR4 rule applies to (sfence, prefetchh).
bool stateless(const Insn& in) {
  return in.d.mnemonic == ZYDIS_MNEMONIC_SFENCE || in.d.meta.category == ZYDIS_CATEGORY_PREFETCH;
}

// Leaves through the FPU gate unless the class is open; flag-free (guest flags are live).
void emit_gate(Ctx& c, const Insn& in, FpuClass k) {
  const uint8_t bit = uint8_t(1u << unsigned(k));
  if (c.fpu_checked & bit) return;
  auto& a = c.a;
  Label open = a.newLabel(), done = a.newLabel(), resume = a.newLabel();
  a.mov(r9, rcx);
  a.movzx(ecx, byte_ptr(r15, cpu::off::fpu_closed + int32_t(k)));
  a.jecxz(rcx, open);
  a.mov(rcx, r9);
  a.mov(vcpu_field(cpu::off::eip), imm(in.eip));
  a.mov(vcpu_field(cpu::off::callout_next), imm(in.eip));
  a.mov(r11d, imm(uint32_t(k)));
  a.mov(r13, imm(uint64_t(reinterpret_cast<uintptr_t>(&callouts::fpu_gate))));
  a.lea(r14, ptr(resume));
  a.jmp(Imm(uint64_t(reinterpret_cast<uintptr_t>(c.rt.fpu_callout))));
  a.bind(resume);
  a.jmp(done);
  a.bind(open);
  a.mov(rcx, r9);
  a.bind(done);
  c.fpu_checked |= bit;
}

// fnsave/fnstenv/fxsave, fxrstor/ldmxcsr: the memory operand's offset in r12, then C++.
void emit_state_callout(Ctx& c, const Insn& in, CalloutFn fn, uint32_t op, bool store) {
  lea_mem_operand(c, in, 12);
  const bool op16 = in.d.attributes & ZYDIS_ATTRIB_HAS_OPERANDSIZE;
  uint32_t a1 = uint32_t(memory_segment(in)) | op << 8 | (store && op16 ? 1u << 16 : 0);
  emit_callout(c, in, CalloutKind::Fpu, fn, true, a1);
}
}  // namespace

bool is_fpu(const Insn& in) {
  switch (in.d.meta.isa_ext) {
    case ZYDIS_ISA_EXT_X87:
    case ZYDIS_ISA_EXT_MMX:
    case ZYDIS_ISA_EXT_SSE:
      return true;
    default:
      return false;
  }
}

Flow emit_fpu_op(Ctx& c, const Insn& in) {
  switch (in.d.mnemonic) {
    case ZYDIS_MNEMONIC_FNSAVE:
      emit_state_callout(c, in, callouts::fpu_store, 0, true);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_FNSTENV:
      emit_state_callout(c, in, callouts::fpu_store, 1, true);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_FXSAVE:
      emit_state_callout(c, in, callouts::fpu_store, 2, true);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_FXRSTOR:
      emit_state_callout(c, in, callouts::fpu_load, 0, false);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_LDMXCSR:
      emit_state_callout(c, in, callouts::fpu_load, 1, false);
      return Flow::Continue;
    case ZYDIS_MNEMONIC_MASKMOVQ:
      // Writes [ds:edi] implicitly: the address size must be 32 bits, and no segment override
      // may apply (the host has no DS base to honour it with).
      if (segment_override(in) >= 0) {
        emit_unsupported(c, in, "maskmovq with a segment override");
        return Flow::End;
      }
      if (addr16(in)) {  // [di]: the host cannot address through di alone
        emit_unsupported(c, in, "maskmovq with 16-bit addressing");
        return Flow::End;
      }
      emit_gate(c, in, FpuClass::Mmx);
      c.a.db(0x67);
      emit_ident(c, in);
      return Flow::Continue;
    default:
      break;
  }
  if (!stateless(in)) emit_gate(c, in, class_of(in));
  emit_ident(c, in);
  if (resets_x87_status(in.d.mnemonic))  // for FERR# (CR0.NE = 0): monitor/src/x87_ferr.h
    c.a.mov(byte_ptr(r15, cpu::off::x87_status_reset), 1);
  return Flow::Continue;
}

}  // namespace bt
