// The listing of a translation unit: guest code, then host code with what each part is for.
#include <Zycore/Format.h>
#include <Zydis/Zydis.h>
#include <fmt/format.h>

#include "bt/engine.h"
#include "bt/unit_record.h"

namespace bt {

namespace {

struct Names {
  const UnitRecord& u;
  bool stable;
  // The name of a host address: an offset into the unit, a runtime entry, or the address.
  std::string of(uint64_t a) const {
    const auto base = reinterpret_cast<uint64_t>(u.host);
    if (a >= base && a <= base + u.host_size) return fmt::format("unit+{:#06x}", a - base);
    for (const auto& [p, name] : u.runtime)
      if (a == reinterpret_cast<uint64_t>(p)) return name;
    return stable ? std::string("<host address>") : fmt::format("{:#x}", a);
  }
};

ZyanStatus append(ZydisFormatterBuffer* buffer, const std::string& s) {
  ZYAN_CHECK(ZydisFormatterBufferAppend(buffer, ZYDIS_TOKEN_SYMBOL));
  ZyanString* str;
  ZYAN_CHECK(ZydisFormatterBufferGetString(buffer, &str));
  return ZyanStringAppendFormat(str, "%s", s.c_str());
}

ZyanStatus print_address(const ZydisFormatter*, ZydisFormatterBuffer* buffer,
                         ZydisFormatterContext* ctx) {
  ZyanU64 a = 0;
  ZYAN_CHECK(ZydisCalcAbsoluteAddress(ctx->instruction, ctx->operand, ctx->runtime_address, &a));
  // [disp32] with no base: a guest address in the window, not a host one.
  if (ctx->operand->type == ZYDIS_OPERAND_TYPE_MEMORY &&
      ctx->operand->mem.base != ZYDIS_REGISTER_RIP)
    return append(buffer, fmt::format("{:#x}", a));
  return append(buffer, static_cast<const Names*>(ctx->user_data)->of(a));
}

ZydisFormatterFunc default_print_imm = nullptr;

// 64-bit immediates that are host pointers (callout functions) differ from run to run.
ZyanStatus print_imm(const ZydisFormatter* f, ZydisFormatterBuffer* buffer,
                     ZydisFormatterContext* ctx) {
  const uint64_t v = ctx->operand->imm.value.u;
  if (ctx->operand->size == 64 && (v >> 32) != 0)
    return append(buffer, static_cast<const Names*>(ctx->user_data)->of(v));
  return default_print_imm(f, buffer, ctx);
}

// With `stable`, bytes that depend on where the unit or bt86 itself was placed are masked:
// 64-bit host pointers (see print_imm) and rel32 branches out of the unit (to the runtime).
std::string host_bytes(const uint8_t* p, const ZydisDecodedInstruction& d, bool stable,
                       bool leaves_unit) {
  std::string s;
  for (unsigned i = 0; i < d.length; ++i) {
    bool masked = false;
    for (const auto& imm : d.raw.imm)
      masked |= stable && i >= imm.offset && i < imm.offset + imm.size / 8u &&
                ((imm.size == 64 && (imm.value.u >> 32) != 0) || (imm.is_relative && leaves_unit));
    s += masked ? ".. " : fmt::format("{:02x} ", p[i]);
  }
  return s;
}

std::string guest_part(const UnitRecord& u) {
  std::string s = "guest\n";
  uint32_t off = 0;
  for (size_t i = 0; i < u.insns.size(); ++i) {
    const uint32_t eip = u.insns[i].second;
    const uint32_t len = i < u.insn_lengths.size() ? u.insn_lengths[i] : 0;
    if (len == 0 || off + len > u.guest.size()) {
      s += fmt::format("  {:08x}  (no guest instruction: the fetch or decode failed)\n", eip);
      continue;
    }
    s += fmt::format("  {:08x}  {}\n", eip, disassemble(u.guest.data() + off, len, eip));
    off += len;
  }
  return s;
}

std::string host_part(const UnitRecord& u, bool stable) {
  ZydisDecoder dec;
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisFormatter fmtr;
  ZydisFormatterInit(&fmtr, ZYDIS_FORMATTER_STYLE_INTEL);
  const void* hook = reinterpret_cast<const void*>(&print_address);
  ZydisFormatterSetHook(&fmtr, ZYDIS_FORMATTER_FUNC_PRINT_ADDRESS_ABS, &hook);
  const void* imm = reinterpret_cast<const void*>(&print_imm);
  ZydisFormatterSetHook(&fmtr, ZYDIS_FORMATTER_FUNC_PRINT_IMM, &imm);
  default_print_imm =
      reinterpret_cast<ZydisFormatterFunc>(const_cast<void*>(imm));  // the previous function
  Names names{u, stable};

  std::string s = stable ? std::string("host\n")
                         : fmt::format("host at {}\n", static_cast<const void*>(u.host));
  size_t next_insn = 0;
  const uint32_t stubs = u.chains.empty() ? u.host_size : u.chains.front().stub;
  s += "  ; entry: leave if an event is pending\n";
  for (uint32_t off = 0; off < u.host_size;) {
    while (next_insn < u.insns.size() && u.insns[next_insn].first <= off) {
      const uint32_t eip = u.insns[next_insn++].second;
      s += fmt::format("  ; guest {:08x}\n", eip);
    }
    if (off == stubs && !u.chains.empty()) s += "  ; exit stubs of the chain sites\n";
    ZydisDecodedInstruction d;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, u.host + off, u.host_size - off, &d, ops))) {
      s += fmt::format("  +{:04x}  {:02x}  (undecodable host byte)\n", off, u.host[off]);
      ++off;
      continue;
    }
    char text[256];
    ZydisFormatterFormatInstruction(&fmtr, &d, ops, d.operand_count_visible, text, sizeof text,
                                    reinterpret_cast<uint64_t>(u.host + off), &names);
    std::string note;
    bool leaves_unit = false;
    ZyanU64 t = 0;
    if (d.meta.branch_type != ZYDIS_BRANCH_TYPE_NONE &&
        ZYAN_SUCCESS(
            ZydisCalcAbsoluteAddress(&d, &ops[0], reinterpret_cast<uint64_t>(u.host + off), &t)))
      leaves_unit = !names.of(t).starts_with("unit+");
    if (leaves_unit && d.mnemonic == ZYDIS_MNEMONIC_JMP) note = "  ; exit";
    for (const auto& c : u.chains)
      if (c.site > off && c.site < off + d.length)
        note = fmt::format("  ; chain site -> guest {:08x} (to its exit stub until chained)",
                           c.target);
    s += fmt::format("  +{:04x}  {:<36}{}{}\n", off,
                     host_bytes(u.host + off, d, stable, leaves_unit), text, note);
    off += d.length;
  }
  return s;
}

}  // namespace

std::string format_unit(const UnitRecord& u, bool stable) {
  std::string s =
      fmt::format("unit {} at guest {:08x}: {} instructions, {} guest bytes -> {} host bytes\n",
                  u.serial, u.eip, u.ninsns, u.guest.size(), u.host_size);
  return s + guest_part(u) + host_part(u, stable) + "\n";
}

}  // namespace bt
