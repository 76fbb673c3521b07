#include "de_xstate.h"

#include <cpuid.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace hostexec::de {

namespace {
// AMX tile state: only 64-bit code can use it, and the host may arm XFD for it (an xrstor of
// an armed component faults), so it is left out.
constexpr uint64_t kAmx = (1ull << 17) | (1ull << 18);

uint64_t xgetbv0() {
  uint32_t lo, hi;
  asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return lo | (uint64_t(hi) << 32);
}

uint8_t* alloc_area(size_t bytes) {
  bytes = (bytes + 63) & ~size_t(63);
  auto* p = static_cast<uint8_t*>(std::aligned_alloc(64, bytes));
  if (!p) throw std::runtime_error("cannot allocate an XSAVE area");
  std::memset(p, 0, bytes);
  return p;
}
}  // namespace

void HostXState::Free::operator()(uint8_t* p) const {
  std::free(p);
}

HostXState::HostXState() {
  unsigned a, b, c, d;
  __cpuid(1, a, b, c, d);
  if (!(c & bit_OSXSAVE))
    throw std::runtime_error(
        "the host has no XSAVE, which direct execution needs to scrub "
        "host register state");
  mask_ = xgetbv0() & ~kAmx;
  // EBX of leaf 0xD, sub-leaf 0: the size of the XSAVE area for what XCR0 enables now.
  __cpuid_count(0xd, 0, a, b, c, d);
  host_.reset(alloc_area(b));
  init_.reset(alloc_area(b));
  // XSTATE_BV = 0 (every component in its reset state); MXCSR is loaded regardless and must
  // hold a valid value.
  const uint32_t mxcsr = 0x1f80;
  std::memcpy(init_.get() + 24, &mxcsr, 4);
  __cpuid_count(7, 0, a, b, c, d);
  pku_ = (c & bit_OSPKE) != 0;
}

uint32_t HostXState::read_pkru() const {
  if (!pku_) return 0;
  uint32_t pkru, edx;
  asm volatile("rdpkru" : "=a"(pkru), "=d"(edx) : "c"(0));
  return pkru;
}

}  // namespace hostexec::de
