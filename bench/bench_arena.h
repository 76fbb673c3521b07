// A low mapping where benchmark guest code lives at its guest address (as in the shadow
// window), with the minimal machine around an engine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bt/engine.h"
#include "cpu/cpu.h"

namespace bench {

class Arena {
 public:
  Arena(uint32_t base, uint32_t size);
  ~Arena();
  uint8_t* at(uint32_t a) const { return reinterpret_cast<uint8_t*>(uintptr_t(a)); }
  uint32_t base, size;
};

struct Machine : cpu::Memory, cpu::Ports, cpu::Hooks, bt::CodeSource {
  explicit Machine(const Arena& a) : arena(a) {}
  cpu::MaybeFault read(uint32_t a, void* d, unsigned n, Mode) override;
  cpu::MaybeFault write(uint32_t a, const void* s, unsigned n, Mode) override;
  uint32_t in(uint16_t, unsigned) override { return 0; }
  void out(uint16_t, unsigned, uint32_t) override {}
  void paging_changed(uint32_t, uint32_t) override {}
  void cr3_written(uint32_t) override {}
  void invlpg(uint32_t) override {}
  const uint8_t* code(uint32_t linear, uint32_t& avail) override;

  const Arena& arena;
  cpu::Vcpu v;
  cpu::Cpu cpu{v, *this, *this, *this};
};

// Executable PT_LOAD segments of an ELF32 file: {guest address, bytes}.
std::vector<std::pair<uint32_t, std::vector<uint8_t>>> load_code_segments(const std::string& path);

}  // namespace bench
