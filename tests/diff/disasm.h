// Listings of 32-bit test code for mismatch reports.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace difftest {

// One line per instruction: address, bytes, Intel syntax. Undecodable bytes show as "db".
std::string disassemble32(const std::vector<uint8_t>& code, uint32_t base);

}  // namespace difftest
