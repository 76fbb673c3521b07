// String instructions with 16-bit addressing (movs, stos, lods, cmps, scas; rep, repe, repne):
// SI, DI and CX wrap at 64 KiB and their upper halves stay. 64-bit mode cannot address through
// 16-bit registers, so each element is one pass of a host loop: the window addresses of the
// source (ds:si or its override) and of es:di in r12/r13, the element moved or compared through
// r8, then SI/DI stepped by the direction (DF, read once per instruction) and CX counted down,
// with flag-free lea and 16-bit register writes. Guest registers change only after an element's
// accesses, so a fault leaves them at the failing element and the instruction restarts there, as
// on the part. A rep runs to its end (at most 64 Ki elements) without interrupt checks, like the
// host's own rep strings that translate the 32-bit forms.
#include "engine_core.h"
#include "translator.h"

namespace bt {

using namespace asmjit;
using namespace asmjit::x86;

namespace {
enum class Op { Movs, Stos, Lods, Cmps, Scas };

Op op_of(ZydisMnemonic m) {
  switch (m) {
    case ZYDIS_MNEMONIC_MOVSB:
    case ZYDIS_MNEMONIC_MOVSW:
    case ZYDIS_MNEMONIC_MOVSD:
      return Op::Movs;
    case ZYDIS_MNEMONIC_STOSB:
    case ZYDIS_MNEMONIC_STOSW:
    case ZYDIS_MNEMONIC_STOSD:
      return Op::Stos;
    case ZYDIS_MNEMONIC_LODSB:
    case ZYDIS_MNEMONIC_LODSW:
    case ZYDIS_MNEMONIC_LODSD:
      return Op::Lods;
    case ZYDIS_MNEMONIC_CMPSB:
    case ZYDIS_MNEMONIC_CMPSW:
    case ZYDIS_MNEMONIC_CMPSD:
      return Op::Cmps;
    case ZYDIS_MNEMONIC_SCASB:
    case ZYDIS_MNEMONIC_SCASW:
    case ZYDIS_MNEMONIC_SCASD:
      return Op::Scas;
    default:
      throw std::logic_error("not a memory string instruction");
  }
}

// The last of F2/F3 (0 without one): F3 is rep/repe, F2 repne (rep for movs/stos/lods).
uint8_t rep_prefix(const Insn& in) {
  uint8_t rep = 0;
  for (unsigned i = 0; i < in.d.raw.prefix_count; ++i) {
    const uint8_t p = in.d.raw.prefixes[i].value;
    if (p == 0xF2 || p == 0xF3) rep = p;
  }
  return rep;
}

// r9d = the element size, negated when DF is set. The guest's flags stay on the vCPU scratch
// stack while this computes.
void direction_to_r9(Ctx& c, unsigned size) {
  auto& a = c.a;
  a.mov(r10, rsp);
  a.lea(rsp, vcpu_field(cpu::off::scratch_top, 8));
  a.pushfq();
  a.mov(r9, ptr(rsp));
  a.shr(r9d, 10);  // DF
  a.and_(r9d, 1);
  a.neg(r9d);                     // 0 or -1
  a.lea(r9d, ptr(r9, r9, 0, 1));  // 1 or -1
  if (size > 1) a.shl(r9d, size == 2 ? 1 : 2);
  a.popfq();
  a.mov(rsp, r10);
}

Gp sized(uint32_t id, unsigned size) {
  return size == 1 ? Gp(GpbLo(id)) : size == 2 ? Gp(Gpw(id)) : Gp(Gpd(id));
}

// One element: accesses first, then SI/DI step (flag-free).
void emit_element(Ctx& c, const Insn& in, Op op, unsigned size) {
  auto& a = c.a;
  const bool src = op == Op::Movs || op == Op::Lods || op == Op::Cmps;
  const bool dst = op != Op::Lods;
  if (src) {
    a.movzx(r12d, si);
    const int seg = segment_override(in);
    if (seg >= 0) add_segment_base(c, seg, r12, r11);
  }
  if (dst) a.movzx(r13d, di);
  const Mem s = ptr(r12, 0, size), d = ptr(r13, 0, size);
  const Gp acc = sized(0, size), tmp = sized(8, size);
  switch (op) {
    case Op::Movs:
      a.mov(tmp, s);
      a.mov(d, tmp);
      break;
    case Op::Stos:
      a.mov(d, acc);
      break;
    case Op::Lods:
      a.mov(acc, s);
      break;
    case Op::Cmps:
      a.mov(tmp, s);
      a.cmp(tmp, d);  // [si] - [di]
      break;
    case Op::Scas:
      a.cmp(acc, d);  // al - [di]
      break;
  }
  if (src) {
    a.lea(r10d, ptr(rsi, r9));
    a.mov(si, r10w);
  }
  if (dst) {
    a.lea(r10d, ptr(rdi, r9));
    a.mov(di, r10w);
  }
}
}  // namespace

void emit_string16(Ctx& c, const Insn& in) {
  auto& a = c.a;
  const Op op = op_of(in.d.mnemonic);
  const unsigned size = memory_operand_bytes(in);
  const uint8_t rep = rep_prefix(in);
  direction_to_r9(c, size);
  if (!rep) {
    emit_element(c, in, op, size);
    c.ident = true;
    return;
  }
  Label top = a.newLabel(), zero = a.newLabel(), done = a.newLabel();
  a.bind(top);
  // CX == 0 ends it (flag-free: jrcxz on the zero-extended CX, the guest's rcx kept in r10).
  a.mov(r10, rcx);
  a.movzx(ecx, cx);
  a.jecxz(rcx, zero);
  a.mov(rcx, r10);
  emit_element(c, in, op, size);
  a.lea(r10d, ptr(rcx, -1));
  a.mov(cx, r10w);
  if (op == Op::Cmps || op == Op::Scas) {
    if (rep == 0xF3)
      a.jne(done);  // repe: stop when the elements differ
    else
      a.je(done);  // repne: stop when they are equal
  }
  a.jmp(top);
  a.bind(zero);
  a.mov(rcx, r10);
  a.bind(done);
  c.ident = true;
}

}  // namespace bt
