// Where the native runner keeps its stubs and their data inside kRunnerBase. Private to the
// native runner: the stubs must run below 4 GiB, and the test binary (PIE) lives above it.
#pragma once

#include <cstdint>

#include "harness.h"

namespace difftest::native {

// 64-bit, called from C++: saves the host context and enters compat mode (iretq).
inline constexpr uint32_t kEnterStub = kRunnerBase + 0x0000;
// 32-bit: loads the case's registers and flags, jumps to kCodeBase.
inline constexpr uint32_t kPrologue = kRunnerBase + 0x0100;
// 32-bit: where the code's end jumps to; stores registers and flags, far-jumps to kExitStub.
inline constexpr uint32_t kEpilogue = kRunnerBase + 0x0200;
// 64-bit: restores the host context and returns to the caller of kEnterStub. Signal handlers
// also send faulting compat code here (CS=0x33).
inline constexpr uint32_t kExitStub = kRunnerBase + 0x0300;
inline constexpr uint32_t kStubSlot = 0x100;  // bytes per stub

inline constexpr uint32_t kBlockAddr = kRunnerBase + 0x8000;
// Stack for the prologue's popfd and the epilogue's pushfd: the guest stack must stay untouched.
inline constexpr uint32_t kScratchStackTop = kRunnerBase + kRunnerSize - 64;

// Shared between C++ and the stubs; field offsets are baked into the stubs.
struct Block {
  uint32_t in_gpr[8];
  uint32_t in_eflags;
  uint32_t out_gpr[8];
  uint32_t out_eflags;
  uint64_t host_rsp;
  uint16_t host_ds;
  uint16_t host_es;
};

inline Block* block() {
  return reinterpret_cast<Block*>(arena_ptr(kBlockAddr));
}

// Writes the four stubs into the runner area (the arena must be mapped).
void write_stubs();

}  // namespace difftest::native
