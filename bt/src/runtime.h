// The hand-written glue between the monitor and translated code, assembled once at the start
// of the translation cache:
//  - enter(vcpu, code): from C++ into translated code (guest state into host registers)
//  - exit_common: translated code -> monitor, reason already stored in the vCPU
//  - leave: the tail of exit_common; the fault handler redirects a faulting context here
//  - callout: translated code -> a C++ function -> back (or out, if it returns non-zero)
//  - lookup: the indirect-branch jump-cache probe (target EIP in r8d)
//  - fpu_callout: the FPU gate (fpu_ops.cpp), loading the guest FPU state when it resumes
//  - ic_miss: lookup for a per-site inline cache that missed (inline_cache.h)
//
// Register convention inside translated code: guest EAX..EDI in host eax..edi, guest ESP in
// rsp (upper half zero), guest arithmetic flags and DF in host RFLAGS, r15 = Vcpu*, r8-r14
// free scratch. Translated code never executes call/push/pop on rsp: that is the guest stack.
#pragma once

#include <cstdint>

#include "code_cache.h"

namespace bt {

// Callout signature: returns 0 to resume translated code, non-zero to leave to the monitor.
using CalloutFn = uint32_t (*)(void* vcpu, uint64_t a0, uint64_t a1);

struct Runtime {
  using EnterFn = uint32_t (*)(void* vcpu, const void* code);
  EnterFn enter = nullptr;
  uint8_t* exit_common = nullptr;
  uint8_t* leave = nullptr;
  uint8_t* callout = nullptr;
  uint8_t* lookup = nullptr;
  uint8_t* fpu_callout = nullptr;  // callout, then the guest FPU state into the host FPU
  uint8_t* ic_miss = nullptr;      // an inline-cache miss: the lookup, refilling the slot

  // Emits the stubs at the start of `cache`, for a jump cache of 2^jc_bits entries.
  void build(CodeCache& cache, unsigned jc_bits);
};

// Host RFLAGS bits that carry guest state: CF PF AF ZF SF DF OF (never TF, AC, IF).
inline constexpr uint32_t kHostFlagsMask = 0xCD5;
// Jump cache: Options::jump_cache_entries (default 64K) entries of {key = eip | generation << 32,
// host entry}, indexed by the EIP's low bits.
struct JumpCacheEntry {
  uint64_t key;
  uint64_t host;
};

}  // namespace bt
