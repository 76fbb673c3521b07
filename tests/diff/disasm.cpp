#include "disasm.h"

#include <Zydis/Zydis.h>
#include <fmt/format.h>

namespace difftest {

std::string disassemble32(const std::vector<uint8_t>& code, uint32_t base) {
  std::string out;
  size_t offset = 0;
  while (offset < code.size()) {
    ZydisDisassembledInstruction insn;
    const uint32_t eip = base + static_cast<uint32_t>(offset);
    size_t length = 1;
    std::string text;
    if (ZYAN_SUCCESS(ZydisDisassembleIntel(ZYDIS_MACHINE_MODE_LEGACY_32, eip, code.data() + offset,
                                           code.size() - offset, &insn))) {
      length = insn.info.length;
      text = insn.text;
    } else {
      text = fmt::format("db 0x{:02x}", code[offset]);
    }
    std::string bytes;
    for (size_t i = 0; i < length; ++i) bytes += fmt::format("{:02x} ", code[offset + i]);
    out += fmt::format("  {:08x}  {:<30} {}\n", eip, bytes, text);
    offset += length;
  }
  return out;
}

}  // namespace difftest
