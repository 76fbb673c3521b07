// Re-encoding guest memory operands for the host: the guest's ModRM/SIB/displacement are kept,
// under a 0x67 prefix so the address is computed in 32 bits and wraps at 4 GiB (DESIGN §4.1).
#include "engine_core.h"
#include "hostexec/host_signals.h"
#include "translator.h"

namespace bt {

using namespace asmjit;

x86::Mem vcpu_field(int32_t off, uint32_t size) {
  return x86::Mem(x86::r15, off, size);
}

void put_modrm_mem(std::vector<uint8_t>& out, const Insn& in, uint8_t reg, int32_t extra_disp) {
  const auto& r = in.d.raw;
  uint8_t mod = r.modrm.mod, rm = r.modrm.rm;
  const bool sib = rm == 4;
  int32_t disp = int32_t(r.disp.value);
  const bool absolute = mod == 0 && rm == 5;  // [disp32]: RIP-relative in 64-bit mode
  const bool sib_nobase = sib && mod == 0 && r.sib.base == 5;  // [index*s + disp32]
  if (absolute) {
    // Re-encode as SIB with no base and no index, which means a plain disp32 in 64-bit mode.
    out.push_back(uint8_t(0x04 | (reg << 3)));
    out.push_back(0x25);
    disp += extra_disp;
    for (int i = 0; i < 4; ++i) out.push_back(uint8_t(uint32_t(disp) >> (8 * i)));
    return;
  }
  int disp_bytes = mod == 1 ? 1 : (mod == 2 || sib_nobase) ? 4 : 0;
  if (extra_disp != 0) {
    disp += extra_disp;
    if (!sib_nobase) {
      mod = 2;  // widen to disp32
      disp_bytes = 4;
    }
  }
  out.push_back(uint8_t((mod << 6) | (reg << 3) | rm));
  if (sib) out.push_back(uint8_t((r.sib.scale << 6) | (r.sib.index << 3) | r.sib.base));
  for (int i = 0; i < disp_bytes; ++i) out.push_back(uint8_t(uint32_t(disp) >> (8 * i)));
}

unsigned guest_gpr(ZydisRegister r) {
  if (r >= ZYDIS_REGISTER_EAX && r <= ZYDIS_REGISTER_EDI) return r - ZYDIS_REGISTER_EAX;
  if (r >= ZYDIS_REGISTER_AX && r <= ZYDIS_REGISTER_DI) return r - ZYDIS_REGISTER_AX;
  return 0;
}

int guest_segment(ZydisRegister r) {
  switch (r) {
    case ZYDIS_REGISTER_ES:
      return cpu::ES;
    case ZYDIS_REGISTER_CS:
      return cpu::CS;
    case ZYDIS_REGISTER_SS:
      return cpu::SS;
    case ZYDIS_REGISTER_DS:
      return cpu::DS;
    case ZYDIS_REGISTER_FS:
      return cpu::FS;
    case ZYDIS_REGISTER_GS:
      return cpu::GS;
    default:
      return -1;
  }
}

int memory_segment(const Insn& in) {
  for (unsigned i = 0; i < in.d.operand_count; ++i) {
    if (in.ops[i].type != ZYDIS_OPERAND_TYPE_MEMORY) continue;
    int s = guest_segment(in.ops[i].mem.segment);
    return s >= 0 ? s : cpu::DS;
  }
  return cpu::DS;
}

uint32_t memory_operand_bytes(const Insn& in) {
  for (unsigned i = 0; i < in.d.operand_count; ++i)
    if (in.ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY) return in.ops[i].size / 8;
  return 0;
}

int segment_override(const Insn& in) {
  for (unsigned i = 0; i < in.d.operand_count; ++i) {
    const auto& op = in.ops[i];
    if (op.type != ZYDIS_OPERAND_TYPE_MEMORY || op.mem.type == ZYDIS_MEMOP_TYPE_AGEN) continue;
    int s = guest_segment(op.mem.segment);
    if (s == cpu::FS || s == cpu::GS) return s;
  }
  return -1;
}

// Host GS base = r8. Without FSGSBASE that is arch_prctl(ARCH_SET_GS), a system call that
// clobbers rax, rcx and r11 (and takes rdi, rsi): those are guest registers here, so they are
// parked in the vCPU. The syscall leaves RFLAGS as it was.
void set_host_gs_base_from_r8(Ctx& c) {
  if (hostexec::host_signals::have_fsgsbase()) {
    c.a.wrgsbase(x86::r8);
    return;
  }
  const x86::Gp regs[] = {x86::rax, x86::rcx, x86::r11, x86::rdi, x86::rsi};
  for (int i = 0; i < 5; ++i) c.a.mov(vcpu_field(cpu::off::syscall_save + 8 * i, 8), regs[i]);
  c.a.mov(x86::eax, 158);     // arch_prctl
  c.a.mov(x86::edi, 0x1001);  // ARCH_SET_GS
  c.a.mov(x86::rsi, x86::r8);
  c.a.syscall();
  for (int i = 0; i < 5; ++i) c.a.mov(regs[i], vcpu_field(cpu::off::syscall_save + 8 * i, 8));
}

std::vector<uint8_t> mem_prefixes(Ctx& c, const Insn& in) {
  std::vector<uint8_t> p{0x67};
  int seg = segment_override(in);
  if (seg >= 0) {
    // fs:/gs: go through the host GS base (FS holds glibc's TLS). GS base = guest segment base;
    // base + 32-bit offset may pass 4 GiB, into the guard the address space keeps there.
    if (c.gs_holds != seg) {
      // Set only if it differs from what the host GS base holds already (it persists across
      // units): flag-free compare (not + lea) and jrcxz, with the guest's ecx parked in r10.
      // Clobbers r8-r10: callers load nothing into them before this.
      auto& a = c.a;
      Label same = a.newLabel(), done = a.newLabel();
      a.mov(x86::r8d, vcpu_field(cpu::off::seg_base + 4 * seg));
      a.mov(x86::r9, vcpu_field(cpu::off::host_gs_base, 8));
      a.not_(x86::r9);
      a.lea(x86::r9, x86::ptr(x86::r8, x86::r9, 0, 1));  // r8 - host_gs_base
      a.mov(x86::r10, x86::rcx);
      a.mov(x86::rcx, x86::r9);
      a.jecxz(x86::rcx, same);  // jrcxz with rcx
      a.mov(x86::rcx, x86::r10);
      set_host_gs_base_from_r8(c);
      a.mov(vcpu_field(cpu::off::host_gs_base, 8), x86::r8);
      a.jmp(done);
      a.bind(same);
      a.mov(x86::rcx, x86::r10);
      a.bind(done);
      c.gs_holds = seg;
    }
    p.push_back(0x65);
  }
  return p;
}

void add_segment_base(Ctx& c, int seg, const x86::Gp& addr, const x86::Gp& base) {
  c.a.mov(base.r32(), vcpu_field(cpu::off::seg_base + 4 * seg));
  c.a.lea(addr.r32(), x86::ptr(addr.r64(), base.r64()));
}

// host_reg: 8..15 (r8d..r15d). Emits mov/movzx host_reg, [guest mem]. An fs:/gs: operand's
// linear address is computed in host_reg first (base + offset wrapping at 4 GiB, as in
// emit_segment_based_ident), with r13 (r14 when host_reg is r13) holding the base.
void load_mem_operand(Ctx& c, const Insn& in, int host_reg, unsigned bytes) {
  std::vector<uint8_t> b;
  const int seg = segment_override(in);
  if (seg >= 0 || addr16(in)) {
    const x86::Gp addr = x86::Gpq(uint32_t(host_reg)), base = x86::Gpq(host_reg == 13 ? 14 : 13);
    lea_mem_operand(c, in, host_reg);
    if (seg >= 0) add_segment_base(c, seg, addr, base);
    const x86::Mem m = x86::ptr(addr, 0, bytes);
    if (bytes == 4)
      c.a.mov(addr.r32(), m);
    else
      c.a.movzx(addr.r32(), m);
    return;
  }
  b = mem_prefixes(c, in);
  b.push_back(0x44);  // REX.R: the reg field names r8..r15
  if (bytes == 4) {
    b.push_back(0x8B);
  } else {
    b.push_back(0x0F);
    b.push_back(bytes == 2 ? 0xB7 : 0xB6);
  }
  put_modrm_mem(b, in, uint8_t(host_reg - 8));
  c.a.embed(b.data(), b.size());
}

void lea_mem_operand(Ctx& c, const Insn& in, int host_reg) {
  if (addr16(in)) return ea16_to(c, in, host_reg);
  if (is_moffs_move(in)) {
    c.a.mov(x86::Gpd(uint32_t(host_reg)), asmjit::imm(uint32_t(in.d.raw.disp.value)));
    return;
  }
  std::vector<uint8_t> b{0x67, 0x44, 0x8D};
  put_modrm_mem(b, in, uint8_t(host_reg - 8));
  c.a.embed(b.data(), b.size());
}

// Through the host GS base, base + offset would reach past 4 GiB into the guard (i386 TLS is
// addressed at negative offsets from gs, so user code does this all the time); computing the
// linear address in 32 bits wraps as the part does. Three flag-free instructions, no host GS
// base to set.
void emit_segment_based_ident(Ctx& c, const Insn& in) {
  const int seg = segment_override(in);
  if (seg < 0 || !watchable(in)) throw std::logic_error("no fs:/gs: operand of an exact form");
  lea_mem_operand(c, in, 12);
  add_segment_base(c, seg, x86::r12, x86::r13);
  emit_ident(c, in, true);
}

}  // namespace bt
