#include "kaslr_offset.h"

#include <cstring>

namespace monitor {

namespace {
uint32_t le32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
}  // namespace

bool KaslrOffset::observe(uint32_t eip, const std::vector<uint8_t>& code) {
  if (offset_ || eip < phys_ || (eip - phys_) % 4096 != 0 || code.size() < 13) return false;
  // 8b 0d imm32: movl imm32, %ecx;  0f 01 15 imm32: lgdt imm32 (head_32.S, Linux 2.6.x-6.x).
  const uint8_t* c = code.data();
  if (c[0] != 0x8b || c[1] != 0x0d || c[6] != 0x0f || c[7] != 0x01 || c[8] != 0x15) return false;
  // Both are the kernel's own data at physical addresses: above the entry, within 64 MiB.
  for (uint32_t a : {le32(c + 2), le32(c + 9)})
    if (a < eip || a - eip >= (64u << 20)) return false;
  offset_ = eip - phys_;
  return true;
}

}  // namespace monitor
