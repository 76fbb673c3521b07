// lea with 16-bit addressing (a 0x67 prefix in 32-bit code): pure arithmetic, so it is
// translated as a 32-bit lea of the same registers truncated to 16 bits. Memory accesses with
// 16-bit addressing are not supported (they stop the VM).
#include "engine_core.h"
#include "translator.h"

namespace bt {

using namespace asmjit;
using namespace asmjit::x86;

bool emit_lea16(Ctx& c, const Insn& in) {
  if (in.d.mnemonic != ZYDIS_MNEMONIC_LEA) return false;
  const auto& dst = in.ops[0];
  auto reg32_of = [](ZydisRegister r) { return Gpd(guest_gpr(r)); };  // bx -> ebx ...
  const auto& m = in.ops[1].mem;
  Mem addr;
  const int32_t disp = int32_t(m.disp.value);
  if (m.base != ZYDIS_REGISTER_NONE && m.index != ZYDIS_REGISTER_NONE)
    addr = ptr(reg32_of(m.base), reg32_of(m.index), 0, disp);
  else if (m.base != ZYDIS_REGISTER_NONE)
    addr = ptr(reg32_of(m.base), disp);
  else if (m.index != ZYDIS_REGISTER_NONE)
    addr = ptr(reg32_of(m.index), disp);
  else
    addr = ptr(uint64_t(uint32_t(disp) & 0xffff));
  c.a.lea(r8d, addr);
  c.a.movzx(r8d, r8w);
  const uint32_t id = guest_gpr(dst.reg.value);
  if (dst.size == 32)
    c.a.mov(Gpd(id), r8d);
  else
    c.a.mov(Gpw(id), r8w);
  return true;
}

}  // namespace bt
