#include <Zydis/Zydis.h>
#include <fmt/format.h>

#include "bt/engine.h"

namespace bt {

std::string disassemble(const uint8_t* bytes, size_t avail, uint32_t eip) {
  if (!bytes || avail == 0) return "(no bytes)";
  ZydisDisassembledInstruction insn;
  size_t n = std::min<size_t>(avail, ZYDIS_MAX_INSTRUCTION_LENGTH);
  std::string hex;
  if (!ZYAN_SUCCESS(ZydisDisassembleIntel(ZYDIS_MACHINE_MODE_LEGACY_32, eip, bytes, n, &insn))) {
    for (size_t i = 0; i < std::min<size_t>(n, 8); ++i) hex += fmt::format("{:02x} ", bytes[i]);
    return hex + " (invalid instruction)";
  }
  for (size_t i = 0; i < insn.info.length; ++i) hex += fmt::format("{:02x} ", bytes[i]);
  return fmt::format("{:<30}{}", hex, insn.text);
}

}  // namespace bt
