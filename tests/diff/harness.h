// The differential translator test harness: runs one instruction sequence natively (the host
// CPU in 32-bit compatibility mode is the oracle) and translated by bt/, from identical
// registers, flags and memory, and compares what comes out.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "flags.h"

namespace difftest {

// Fixed low addresses (below 4 GiB) shared by both runners; both run in this test process.
inline constexpr uint32_t kCodeBase = 0x10000000, kCodeSize = 0x10000;      // test code (RWX)
inline constexpr uint32_t kDataBase = 0x10010000, kDataSize = 0x10000;      // data area (RW)
inline constexpr uint32_t kStackBase = 0x10020000, kStackSize = 0x10000;    // stack area (RW)
inline constexpr uint32_t kRunnerBase = 0x10030000, kRunnerSize = 0x10000;  // native runner only

enum Gpr { kEax, kEcx, kEdx, kEbx, kEsp, kEbp, kEsi, kEdi };

struct CpuState {
  uint32_t gpr[8];  // eax ecx edx ebx esp ebp esi edi
  uint32_t eflags;
};

struct Outcome {
  CpuState state;   // registers at the end, or at the fault (as the exception frame shows)
  int vector = -1;  // -1: reached the end; else the x86 exception vector
  uint32_t error_code = 0;
  uint32_t fault_eip = 0;  // the EIP the exception frame holds (faults: the instruction;
                           // int3/into: the next one)
};

struct TestCase {
  std::string name;
  std::vector<uint8_t> code;  // copied to kCodeBase; runs until EIP == kCodeBase + code.size()
  CpuState in;
  std::vector<uint8_t> data;     // initial data area (rest zero); the stack area starts zeroed
  uint32_t undefined_flags = 0;  // EFLAGS bits architecturally undefined afterwards: not compared
};

class Runner {
 public:
  virtual ~Runner() = default;
  virtual const char* name() const = 0;
  // The harness has already written code, data and stack into the arena; results in memory
  // stay there.
  virtual Outcome run(const TestCase& tc) = 0;
};

std::unique_ptr<Runner> make_native_runner();
std::unique_ptr<Runner> make_translated_runner();  // tests/diff/translated_runner.cpp

// The arena: kCodeBase .. kRunnerBase + kRunnerSize, mapped at those addresses once per
// process (on first use) and unmapped at exit. Throws std::runtime_error if the range is taken.
void map_arena();
// Resets the arena for `tc`: code at kCodeBase (the rest of the code area int3), data at
// kDataBase (the rest zero), a zeroed stack area. Throws std::invalid_argument if the code or
// the data does not fit.
void reset_arena(const TestCase& tc);
// Host pointer to an arena address (identity: host address == guest address).
inline uint8_t* arena_ptr(uint32_t address) {
  return reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(address));
}

}  // namespace difftest
