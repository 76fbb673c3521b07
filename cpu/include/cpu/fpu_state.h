// The guest's x87/MMX/SSE state and the architectural rules around it: the fxsave image the vCPU
// keeps (one state shared by both engines and the monitor), the CR0/CR4 checks that decide #NM
// and #UD per instruction class, and the conversions to the memory images fnsave, fnstenv and
// fxsave write (32-bit protected-mode formats). How the state reaches the host FPU (lazily, in
// translated code) is the engines' business.
#pragma once

#include <cstdint>
#include <cstring>

#include "cpu/cpu.h"

namespace cpu {

inline constexpr uint8_t kXM = 19;  // SIMD floating-point exception

// The image layout (Intel SDM vol. 1, table 10-2, the 32-bit format).
namespace fxs {
inline constexpr unsigned FCW = 0, FSW = 2, FTW = 4, FOP = 6, FIP = 8, FCS = 12, FDP = 16, FDS = 20,
                          MXCSR = 24, MXCSR_MASK = 28, ST0 = 32, XMM0 = 160;
// What fxsave writes and fxrstor reads on a 32-bit part: up to the end of XMM7. The rest of
// the 512 bytes is reserved or left to software.
inline constexpr unsigned kArchBytes = 288;
}  // namespace fxs

// MXCSR bits a Pentium III accepts (no DAZ, bit 6): anything else in ldmxcsr/fxrstor is #GP(0).
inline constexpr uint32_t kMxcsrMask = 0xffbf;
inline constexpr uint32_t kMxcsrReset = 0x1f80;

// Instruction classes with their own CR0/CR4 rules (Intel SDM vol. 3, table 2-2 and 13-?).
enum class FpuClass : uint8_t {
  X87,   // x87 arithmetic and control (and fxsave/fxrstor): #NM if EM or TS
  Wait,  // wait/fwait: #NM if MP and TS
  Mmx,   // MMX: #UD if EM, #NM if TS
  Sse,   // SSE (xmm or MXCSR): #UD if EM or !OSFXSR, #NM if TS
  Count
};
inline constexpr unsigned kFpuClasses = unsigned(FpuClass::Count);

// The fault this class raises under the current CR0/CR4, if any.
MaybeFault fpu_class_fault(const Vcpu& v, FpuClass k);

// A fresh image: the state after fninit with MXCSR at its reset value, XMM registers zero.
void fpu_reset(Vcpu& v);
// fninit on the image (x87 only: control 0x37f, status and pointers zero, all tags empty).
void fpu_fninit(Vcpu& v);
inline uint16_t fpu_get16(const Vcpu& v, unsigned at) {
  uint16_t x;
  std::memcpy(&x, v.fpu + at, 2);
  return x;
}
inline uint32_t fpu_get32(const Vcpu& v, unsigned at) {
  uint32_t x;
  std::memcpy(&x, v.fpu + at, 4);
  return x;
}
inline void fpu_put16(Vcpu& v, unsigned at, uint16_t x) {
  std::memcpy(v.fpu + at, &x, 2);
}
inline void fpu_put32(Vcpu& v, unsigned at, uint32_t x) {
  std::memcpy(v.fpu + at, &x, 4);
}

// Whether an unmasked x87 exception is pending in the image (what FSW.ES means; FERR# follows
// it).
inline bool x87_error_pending(const Vcpu& v) {
  return (fpu_get16(v, fxs::FSW) & ~fpu_get16(v, fxs::FCW) & 0x3f) != 0;
}

// The full two-bit tag word (fnsave/fnstenv) from the image's abridged one and the registers.
uint16_t fpu_full_tag_word(const Vcpu& v);
// The environment (28 bytes, or 14 with a 16-bit operand size) and the fnsave image (108 or 94
// bytes) in protected-mode format.
unsigned fpu_env_image(const Vcpu& v, bool op16, uint8_t* out);
unsigned fpu_save_image(const Vcpu& v, bool op16, uint8_t* out);

}  // namespace cpu
