// Where a relocated i386 Linux kernel runs (KASLR), learned from its first instructions: the
// decompressor jumps to the kernel's startup_32 at a physical address with paging off, and on
// i386 the kernel's virtual addresses move by the same offset as its physical ones. So the
// first translation unit whose code is startup_32's — `movl pa(initial_stack), %ecx; lgdt
// pa(boot_gdt_descr)`, both operands physical addresses a little above the unit — at
// phys_startup_32 plus a page-aligned offset gives the offset every System.map address needs.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace monitor {

class KaslrOffset {
 public:
  // `phys_startup_32`: where the unrelocated kernel's entry is (System.map's phys_startup_32,
  // or startup_32 - 0xC0000000 where the map lacks it).
  explicit KaslrOffset(uint32_t phys_startup_32) : phys_(phys_startup_32) {}
  // A unit made at `eip` from `code` (its guest bytes); true when it is the relocated kernel's
  // startup_32 and the offset is now known.
  bool observe(uint32_t eip, const std::vector<uint8_t>& code);
  std::optional<uint32_t> offset() const { return offset_; }

 private:
  uint32_t phys_;
  std::optional<uint32_t> offset_;
};

}  // namespace monitor
