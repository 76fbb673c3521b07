// IDENT translation: the unprivileged integer instructions whose meaning is the same in 64-bit
// mode are copied byte for byte, with three fixes: a 0x67 prefix on memory operands, [disp32]
// re-encoded (it means RIP-relative in 64-bit mode), and the one-byte inc/dec (REX prefixes
// in 64-bit mode) re-encoded as FF /0 and FF /1.
#include <stdexcept>

#include "engine_core.h"
#include "translator.h"

namespace bt {

using namespace asmjit;
using namespace asmjit::x86;

namespace {
bool implicit_memory(const Insn& in) {
  if (in.d.meta.category == ZYDIS_CATEGORY_STRINGOP) return true;
  if (in.d.mnemonic == ZYDIS_MNEMONIC_XLAT) return true;
  // mov al/eax, moffs and back: the 0x67 prefix keeps the offset 4 bytes long.
  return in.d.opcode_map == ZYDIS_OPCODE_MAP_DEFAULT && in.d.opcode >= 0xA0 && in.d.opcode <= 0xA3;
}
}  // namespace

bool is_ident(const Insn& in) {
  const auto& d = in.d;
  switch (d.meta.category) {
    case ZYDIS_CATEGORY_SETCC:
    case ZYDIS_CATEGORY_CMOV:
      return true;
    case ZYDIS_CATEGORY_STRINGOP:
      // ins/outs are port I/O, handled as system operations.
      return d.mnemonic != ZYDIS_MNEMONIC_INSB && d.mnemonic != ZYDIS_MNEMONIC_INSW &&
             d.mnemonic != ZYDIS_MNEMONIC_INSD && d.mnemonic != ZYDIS_MNEMONIC_OUTSB &&
             d.mnemonic != ZYDIS_MNEMONIC_OUTSW && d.mnemonic != ZYDIS_MNEMONIC_OUTSD;
    default:
      break;
  }
  switch (d.mnemonic) {
    case ZYDIS_MNEMONIC_ADD:
    case ZYDIS_MNEMONIC_OR:
    case ZYDIS_MNEMONIC_ADC:
    case ZYDIS_MNEMONIC_SBB:
    case ZYDIS_MNEMONIC_AND:
    case ZYDIS_MNEMONIC_SUB:
    case ZYDIS_MNEMONIC_XOR:
    case ZYDIS_MNEMONIC_CMP:
    case ZYDIS_MNEMONIC_TEST:
    case ZYDIS_MNEMONIC_INC:
    case ZYDIS_MNEMONIC_DEC:
    case ZYDIS_MNEMONIC_NEG:
    case ZYDIS_MNEMONIC_NOT:
    case ZYDIS_MNEMONIC_MUL:
    case ZYDIS_MNEMONIC_IMUL:
    case ZYDIS_MNEMONIC_DIV:
    case ZYDIS_MNEMONIC_IDIV:
    case ZYDIS_MNEMONIC_SHL:
    case ZYDIS_MNEMONIC_SHR:
    case ZYDIS_MNEMONIC_SAR:
    case ZYDIS_MNEMONIC_ROL:
    case ZYDIS_MNEMONIC_ROR:
    case ZYDIS_MNEMONIC_RCL:
    case ZYDIS_MNEMONIC_RCR:
    case ZYDIS_MNEMONIC_SHLD:
    case ZYDIS_MNEMONIC_SHRD:
    case ZYDIS_MNEMONIC_BT:
    case ZYDIS_MNEMONIC_BTS:
    case ZYDIS_MNEMONIC_BTR:
    case ZYDIS_MNEMONIC_BTC:
    case ZYDIS_MNEMONIC_BSF:
    case ZYDIS_MNEMONIC_BSR:
    case ZYDIS_MNEMONIC_XCHG:
    case ZYDIS_MNEMONIC_CMPXCHG:
    case ZYDIS_MNEMONIC_CMPXCHG8B:
    case ZYDIS_MNEMONIC_XADD:
    case ZYDIS_MNEMONIC_BSWAP:
    case ZYDIS_MNEMONIC_MOVZX:
    case ZYDIS_MNEMONIC_MOVSX:
    case ZYDIS_MNEMONIC_LEA:
    case ZYDIS_MNEMONIC_CBW:
    case ZYDIS_MNEMONIC_CWDE:
    case ZYDIS_MNEMONIC_CWD:
    case ZYDIS_MNEMONIC_CDQ:
    case ZYDIS_MNEMONIC_LAHF:
    case ZYDIS_MNEMONIC_SAHF:
    case ZYDIS_MNEMONIC_CLC:
    case ZYDIS_MNEMONIC_STC:
    case ZYDIS_MNEMONIC_CMC:
    case ZYDIS_MNEMONIC_CLD:
    case ZYDIS_MNEMONIC_STD:
    case ZYDIS_MNEMONIC_XLAT:
    case ZYDIS_MNEMONIC_NOP:
    case ZYDIS_MNEMONIC_PAUSE:
    case ZYDIS_MNEMONIC_ENDBR32:
      return true;
    case ZYDIS_MNEMONIC_MOV:
      // Not the segment, control and debug register forms.
      if (d.opcode_map == ZYDIS_OPCODE_MAP_DEFAULT) return d.opcode != 0x8C && d.opcode != 0x8E;
      return false;
    default:
      return false;
  }
}

void emit_ident(Ctx& c, const Insn& in, bool at_r12) {
  const bool mem = in.modrm_is_mem() || implicit_memory(in);
  if (at_r12) return emit_ident_at(c, in, MemAt::HostR12);
  if (mem && addr16(in)) return emit_ident_addr16(c, in);
  emit_ident_at(c, in, MemAt::Guest);
}

void emit_ident_at(Ctx& c, const Insn& in, MemAt at) {
  const auto& d = in.d;
  const auto& r = d.raw;
  std::vector<uint8_t> b;
  // [r12] is a host address outside the window: only for the forms that access exactly it.
  if (at == MemAt::HostR12 && !watchable(in))
    throw std::logic_error("[r12] for a form that is not exact");
  const bool at_r12 = at == MemAt::HostR12 || at == MemAt::WindowR12;
  const bool mem = in.modrm_is_mem() || implicit_memory(in);
  if (at == MemAt::Guest && mem) b = mem_prefixes(c, in);
  // 67 [r12d], 67 [disp32]: a 32-bit host address, inside the window and its guard.
  if (at == MemAt::WindowR12 || at == MemAt::PatchedDisp32) b.push_back(0x67);
  for (unsigned i = 0; i < r.prefix_count; ++i) {
    uint8_t p = r.prefixes[i].value;
    // rep before bsf/bsr is ignored by a P6; a host with BMI1/LZCNT would run tzcnt/lzcnt.
    const bool rep = p == 0xF2 || p == 0xF3;
    if (rep && (d.mnemonic == ZYDIS_MNEMONIC_BSF || d.mnemonic == ZYDIS_MNEMONIC_BSR)) continue;
    if (p == 0x66 || p == 0xF0 || rep) b.push_back(p);
  }
  if (at_r12) b.push_back(0x41);  // REX.B: the SIB base below names r12
  // The address base: r12, or none with a disp32 (patched at run time; no REX needed).
  const uint8_t sib = at == MemAt::PatchedDisp32 ? 0x25 : 0x24;
  const bool redirected = at != MemAt::Guest;
  size_t disp_at = 0;  // PatchedDisp32: where the disp32 goes in b
  const uint8_t* body = in.bytes + r.prefix_count;
  const unsigned body_len = d.length - r.prefix_count;
  if (redirected && is_moffs_move(in)) {
    // mov al/eax, [moffs] and back as the ModRM forms 8A/8B/88/89.
    static constexpr uint8_t kModrmForm[4] = {0x8A, 0x8B, 0x88, 0x89};
    b.push_back(kModrmForm[d.opcode - 0xA0]);
    b.push_back(0x04);  // reg al/eax, SIB follows
    b.push_back(sib);
    disp_at = b.size();
  } else if (d.opcode_map == ZYDIS_OPCODE_MAP_DEFAULT && d.opcode >= 0x40 && d.opcode <= 0x4F) {
    // inc/dec r16/r32 short forms: 0x40-0x4F are REX prefixes in 64-bit mode.
    b.push_back(0xFF);
    b.push_back(uint8_t(0xC0 | (d.opcode & 8) | (d.opcode & 7)));
  } else if (in.has_modrm()) {
    unsigned modrm_at = r.modrm.offset - r.prefix_count;
    b.insert(b.end(), body, body + modrm_at);
    if (d.opcode_map == ZYDIS_OPCODE_MAP_DEFAULT && d.opcode == 0x82)
      b.back() = 0x80;  // no 0x82 in 64-bit
    if (in.modrm_is_mem() && redirected) {
      b.push_back(uint8_t((r.modrm.reg << 3) | 4));  // mod 00, SIB follows
      b.push_back(sib);
      disp_at = b.size();
    } else if (in.modrm_is_mem()) {
      put_modrm_mem(b, in, r.modrm.reg);
    } else {
      b.push_back(in.bytes[r.modrm.offset]);
    }
    unsigned rest = r.modrm.offset + 1;
    if (in.modrm_is_mem()) {
      if (r.disp.size)
        rest = r.disp.offset + r.disp.size / 8;
      else if (r.modrm.rm == 4 && d.address_width == 32)
        rest = r.sib.offset + 1;
    }
    b.insert(b.end(), in.bytes + rest, in.bytes + d.length);
  } else {
    b.insert(b.end(), body, body + body_len);
  }
  if (at == MemAt::PatchedDisp32) {
    if (!disp_at) throw std::logic_error("a patched disp32 for an instruction without one");
    // The address (r12d) goes into the disp32 of the instruction below before it runs: a
    // store into the translation cache, which the CPU orders with the fetch (x86 keeps
    // self-modifying code coherent). Only one vCPU runs a unit.
    Label disp = c.a.newLabel();
    c.a.mov(dword_ptr(disp), r12d);
    c.a.embed(b.data(), disp_at);
    c.a.bind(disp);
    c.a.dd(0);
    c.a.embed(b.data() + disp_at, b.size() - disp_at);
  } else {
    c.a.embed(b.data(), b.size());
  }
  c.ident = true;
}

}  // namespace bt
