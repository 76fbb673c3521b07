// The block the direct-execution world switch (de_switch.S) and its signal claimer share.
// Offsets are fixed because assembly uses them; the static_asserts keep both sides in step.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hostexec::de {

// How the last stay in guest code ended (DeContext::kind).
enum ExitKind : uint32_t {
  kNone = 0,
  kTrap = 1,        // a synchronous signal from guest code (the trap fields say which)
  kAsync = 2,       // an asynchronous signal (timer, Ctrl-C) interrupted guest code
  kBailed = 3,      // a pending event was seen before the guest ran
  kEntryFault = 4,  // the entry itself faulted (a host selector the CPU refused): a monitor bug
  kEscaped = 5,     // a signal came from 64-bit code in the window: guest bytes run as host code
};

struct alignas(64) DeContext {
  uint32_t gpr[8];          // 0   guest eax ecx edx ebx esp ebp esi edi
  uint32_t eip;             // 32
  uint32_t rflags;          // 36  host RFLAGS image: guest arithmetic flags and DF, IF = 1
  uint16_t sel[6];          // 40  host selectors to load: cs ss ds es fs gs
  uint32_t kind;            // 52  ExitKind
  uint64_t host_rsp;        // 56
  uint64_t host_fsbase;     // 64
  uint16_t out_sel[4];      // 72  ds es fs gs as guest code left them
  const uint16_t* pending;  // 80  the vCPU's pending-event word
  int32_t signo;            // 88
  int32_t trapno;           // 92
  uint64_t err;             // 96
  uint64_t addr;            // 104
  int32_t si_code;          // 112
  uint32_t syscall_nr;      // 116
  uint16_t out_cs;          // 120 CS as guest code left it
  uint16_t out_ss;          // 122 SS as guest code left it
  uint8_t pad[4];
  alignas(64) uint8_t guest_fpu[512];  // 128 fxsave image of the guest's x87/SSE state
  uint8_t* host_xsave;                 // 640 the monitor's extended state, while the guest runs
  const uint8_t* init_xsave;           // 648 an XSAVE area with every component in reset state
  uint32_t xmask_lo, xmask_hi;         // 656 the host's XCR0 (user components) for xsave/xrstor
  uint32_t host_pkru;                  // 664 restored first at exits (0: no PKU)
  uint32_t have_pku;                   // 668
  uint64_t escaped_rip;                // 672 kEscaped: where the 64-bit code was
};
static_assert(offsetof(DeContext, eip) == 32 && offsetof(DeContext, rflags) == 36);
static_assert(offsetof(DeContext, sel) == 40 && offsetof(DeContext, kind) == 52);
static_assert(offsetof(DeContext, host_rsp) == 56 && offsetof(DeContext, host_fsbase) == 64);
static_assert(offsetof(DeContext, out_sel) == 72 && offsetof(DeContext, pending) == 80);
static_assert(offsetof(DeContext, guest_fpu) == 128 && offsetof(DeContext, host_xsave) == 640);
static_assert(offsetof(DeContext, init_xsave) == 648 && offsetof(DeContext, xmask_lo) == 656);
static_assert(offsetof(DeContext, host_pkru) == 664 && offsetof(DeContext, have_pku) == 668);

}  // namespace hostexec::de

extern "C" {
void bt86_de_enter(hostexec::de::DeContext* c);  // runs guest code until a signal brings it back
void bt86_de_window();                           // labels inside bt86_de_enter (see de_switch.S)
void bt86_de_iretq();
void bt86_de_bail();
void bt86_de_exit();
}
