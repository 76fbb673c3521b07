// EFLAGS bits the differential tests set, compare and reason about.
#pragma once

#include <cstdint>

namespace difftest {

inline constexpr uint32_t kCF = 1u << 0;
inline constexpr uint32_t kPF = 1u << 2;
inline constexpr uint32_t kAF = 1u << 4;
inline constexpr uint32_t kZF = 1u << 6;
inline constexpr uint32_t kSF = 1u << 7;
inline constexpr uint32_t kDF = 1u << 10;
inline constexpr uint32_t kOF = 1u << 11;

inline constexpr uint32_t kArithFlags = kCF | kPF | kAF | kZF | kSF | kOF;
// What a test case may set in CpuState::in.eflags and what the comparison looks at. The rest
// (IF, TF, AC, NT, ...) belongs to the host or would change how the host runs the code.
inline constexpr uint32_t kComparedFlags = kArithFlags | kDF;
// Bit 1 of EFLAGS always reads as 1.
inline constexpr uint32_t kFixedFlags = 1u << 1;

}  // namespace difftest
