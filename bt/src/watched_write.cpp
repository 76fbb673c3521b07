// Watched writes (WriteWatch): an instruction whose memory operand the monitor redirects to a
// host address it chose (the physmap page behind a traced page table), re-encoded as [r12].
//
// That host address lies outside the guest window, so this is the one place where translated
// code reaches memory the guest does not own. The redirection is therefore applied only to
// instruction forms whose access is exactly their operand — [ea, ea + operand size), which
// WriteWatch::begin checked stays inside one guest page. Everything else keeps the window,
// where every address an operand can produce lies in the window or its guard. Left out, each
// for its reason:
//  - bt/bts/btr/btc with a register bit offset: the offset adds up to +-256 MiB to the address
//    (64-bit arithmetic without the 0x67 prefix [r12] drops);
//  - lea, and the multi-byte nop (0F 1F /0): no access, and lea would hand the host address to
//    a guest register;
//  - instructions with implicit memory operands (strings, xlat, push/pop, enter): they access
//    more than their operand or several places; any other mnemonic is refused too (the moffs
//    moves A0-A3 are accepted: their access is exactly their operand);
//  - byte operands ah..bh: with a REX prefix those encodings name spl..dil.
// 16-bit addressing (0x67) is fine for the forms above: lea_mem_operand gives the offset modulo
// 64 KiB and the access is still exactly the operand.
#include <stdexcept>

#include "callouts.h"
#include "engine_core.h"
#include "translator.h"

namespace bt {

namespace {
bool exact_access_mnemonic(ZydisMnemonic m) {
  switch (m) {
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
    case ZYDIS_MNEMONIC_BT:  // only with an immediate bit offset: see watchable()
    case ZYDIS_MNEMONIC_BTS:
    case ZYDIS_MNEMONIC_BTR:
    case ZYDIS_MNEMONIC_BTC:
    case ZYDIS_MNEMONIC_BSF:
    case ZYDIS_MNEMONIC_BSR:
    case ZYDIS_MNEMONIC_XCHG:
    case ZYDIS_MNEMONIC_CMPXCHG:
    case ZYDIS_MNEMONIC_CMPXCHG8B:
    case ZYDIS_MNEMONIC_XADD:
    case ZYDIS_MNEMONIC_MOVZX:
    case ZYDIS_MNEMONIC_MOVSX:
    case ZYDIS_MNEMONIC_MOV:
      return true;
    default:
      return false;
  }
}

bool is_bit_test(ZydisMnemonic m) {
  return m == ZYDIS_MNEMONIC_BT || m == ZYDIS_MNEMONIC_BTS || m == ZYDIS_MNEMONIC_BTR ||
         m == ZYDIS_MNEMONIC_BTC;
}
}  // namespace

bool is_moffs_move(const Insn& in) {
  return in.d.opcode_map == ZYDIS_OPCODE_MAP_DEFAULT && in.d.opcode >= 0xA0 && in.d.opcode <= 0xA3;
}

bool watchable(const Insn& in) {
  if (!(in.modrm_is_mem() || is_moffs_move(in)) || !is_ident(in)) return false;
  const auto cat = in.d.meta.category;
  if (!exact_access_mnemonic(in.d.mnemonic) && cat != ZYDIS_CATEGORY_SETCC &&
      cat != ZYDIS_CATEGORY_CMOV)
    return false;
  unsigned memory_operands = 0;
  for (unsigned i = 0; i < in.d.operand_count; ++i) {
    const auto& op = in.ops[i];
    if (op.type == ZYDIS_OPERAND_TYPE_MEMORY) {
      if (op.mem.type != ZYDIS_MEMOP_TYPE_MEM || op.size == 0 || op.size > 64) return false;
      ++memory_operands;
    } else if (op.type == ZYDIS_OPERAND_TYPE_REGISTER) {
      const auto r = op.reg.value;
      if (r == ZYDIS_REGISTER_AH || r == ZYDIS_REGISTER_CH || r == ZYDIS_REGISTER_DH ||
          r == ZYDIS_REGISTER_BH)
        return false;
      // A register bit offset moves the access away from the operand.
      if (is_bit_test(in.d.mnemonic) && i == 1) return false;
    }
  }
  return memory_operands == 1;
}

void emit_watched_write(Ctx& c, const Insn& in) {
  if (!watchable(in)) throw std::logic_error("watched write of a form that is not exact");
  // r12 = the operand's offset; the callout makes it the linear address and returns where the
  // access goes instead (WriteWatch::begin), in the vCPU.
  lea_mem_operand(c, in, 12);
  unsigned access = 0;
  for (unsigned i = 0; i < in.d.operand_count; ++i) {
    if (in.ops[i].type != ZYDIS_OPERAND_TYPE_MEMORY) continue;
    if (in.ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_READ) access |= kWatchRead;
    // cmpxchg writes conditionally in the ISA, but the bus sees the write either way.
    if (in.ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) access |= kWatchWrite;
  }
  emit_callout(c, in, CalloutKind::WatchedWrite, callouts::watch_begin, true,
               uint32_t(memory_segment(in)) | memory_operand_bytes(in) << 8 | access << 16);
  c.a.mov(asmjit::x86::r12, vcpu_field(cpu::off::watch_host, 8));
  emit_ident(c, in, true);
  emit_callout(c, in, CalloutKind::WatchedWrite, callouts::watch_end);
}

}  // namespace bt
