// What one stay of guest code in the confined direct-execution process left behind, in the
// form the exit decoding (direct_exec.cpp) reads: the guest's registers and selectors as the
// code left them and how it came back.
#pragma once

#include <cstdint>

namespace hostexec::de {

// How the last stay in guest code ended (DeContext::kind).
enum ExitKind : uint32_t {
  kNone = 0,
  kTrap = 1,        // a synchronous signal from guest code (the trap fields say which)
  kAsync = 2,       // a kick (timer, Ctrl-C, SIGTERM) interrupted guest code
  kBailed = 3,      // a pending event was seen before the guest ran
  kEntryFault = 4,  // the entry itself faulted (a host selector the CPU refused): a monitor bug
  kEscaped = 5,     // the code came back in 64-bit mode (CS 0x33): guest bytes ran as host code
};

struct DeContext {
  uint32_t eip;         // where guest code left off
  uint16_t sel[6];      // host selectors entered with: cs ss ds es fs gs
  uint32_t kind;        // ExitKind
  uint16_t out_sel[4];  // ds es fs gs as guest code left them
  uint16_t out_cs;      // CS as guest code left it
  uint16_t out_ss;      // SS as guest code left it
  int32_t signo;
  int32_t trapno;
  uint64_t err;
  uint64_t addr;
  int32_t si_code;
  uint64_t escaped_rip;  // kEscaped: where the 64-bit code was
};

}  // namespace hostexec::de
