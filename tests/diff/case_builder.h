// Building blocks for the case generators: a deterministic random source and a builder that
// assembles 32-bit code at kCodeBase and sets up the registers, flags and memory it needs.
#pragma once

#include <asmjit/x86.h>

#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "harness.h"

namespace difftest {

// Deterministic everywhere: only the engine is used (std distributions are implementation-defined).
class Rng {
 public:
  explicit Rng(uint32_t seed) : engine_(seed) {}
  uint32_t u32() { return static_cast<uint32_t>(engine_()); }
  uint32_t below(uint32_t n) { return n ? u32() % n : 0; }
  uint32_t range(uint32_t lo, uint32_t hi) { return lo + below(hi - lo + 1); }  // inclusive
  int32_t srange(int32_t lo, int32_t hi) {
    return lo + static_cast<int32_t>(below(static_cast<uint32_t>(hi - lo) + 1));
  }
  bool chance(uint32_t percent) { return below(100) < percent; }
  bool coin() { return (u32() >> 7) & 1; }
  // An operand value of `bits` width: often an edge value (0, 1, all ones, sign boundaries,
  // alternating bits), otherwise uniform.
  uint32_t value(unsigned bits);
  template <typename T>
  T pick(std::initializer_list<T> items) {
    return items.begin()[below(static_cast<uint32_t>(items.size()))];
  }
  template <typename T>
  const T& pick(const std::vector<T>& items) {
    return items[below(static_cast<uint32_t>(items.size()))];
  }

 private:
  std::mt19937 engine_;
};

// Operand registers by encoding: 8-bit ids are al cl dl bl ah ch dh bh.
asmjit::x86::Gp gp(unsigned bits, unsigned id);
// The 32-bit register (Gpr) that holds operand register `id` of width `bits`.
inline unsigned holder(unsigned bits, unsigned id) {
  return bits == 8 ? id & 3 : id;
}
inline uint32_t width_mask(unsigned bits) {
  return bits == 32 ? ~0u : (1u << bits) - 1;
}
inline uint32_t sign_bit(unsigned bits) {
  return 1u << (bits - 1);
}

class CaseBuilder {
  // Declared first: the assembler below attaches to them.
  class Errors : public asmjit::ErrorHandler {
   public:
    void handleError(asmjit::Error, const char* message, asmjit::BaseEmitter*) override {
      if (first.empty()) first = message;
    }
    std::string first;
  };
  Errors errors_;
  asmjit::CodeHolder code_;
  asmjit::CodeHolder* init_code();

 public:
  // Random registers (ESP in the middle of the stack area), random arithmetic flags and DF, and
  // `data_bytes` random bytes at the start of the data area.
  CaseBuilder(std::string name, Rng& rng, uint32_t data_bytes = 256);
  CaseBuilder(const CaseBuilder&) = delete;
  CaseBuilder& operator=(const CaseBuilder&) = delete;

  asmjit::x86::Assembler a;
  Rng& rng;

  CpuState& in() { return tc_.in; }
  // Sets a register and reserves it: mem() will not pick it as base or index.
  void set(unsigned reg, uint32_t value);
  // Sets the low `bits` of operand register `id` (ah..bh: bits 8-15), keeping the rest; reserves
  // the holding register.
  void set_operand(unsigned bits, unsigned id, uint32_t value);
  uint32_t operand(unsigned bits, unsigned id) const;
  // set_operand() unless the holding register is already reserved (its value is needed as is).
  void suggest(unsigned bits, unsigned id, uint32_t value) {
    if (!reserved(holder(bits, id))) set_operand(bits, id, value);
  }
  void reserve(unsigned reg) { reserved_ |= 1u << reg; }
  bool reserved(unsigned reg) const { return reserved_ & (1u << reg); }
  // Marks a register as written by the code emitted so far: later memory operands must not
  // use it (its run-time value is no longer the initial one). Also reserves it.
  void clobber(unsigned reg) {
    clobbered_ |= 1u << reg;
    reserve(reg);
  }
  bool clobbered(unsigned reg) const { return clobbered_ & (1u << reg); }
  void set_flags(uint32_t value, uint32_t mask = kComparedFlags) {
    tc_.in.eflags = (tc_.in.eflags & ~mask) | (value & mask);
  }

  std::vector<uint8_t>& data() { return tc_.data; }
  void write_data(uint32_t address, const void* bytes, size_t n);
  void write32(uint32_t address, uint32_t value) { write_data(address, &value, 4); }
  uint32_t read_data(uint32_t address, unsigned bytes) const;
  // A random address in the initialised part of the data area with room for `size` bytes.
  uint32_t data_address(uint32_t size, uint32_t align = 1);
  // A random address within 512 bytes of the initial ESP.
  uint32_t stack_address(uint32_t size);

  // A memory operand of `size` bytes whose effective address is `target`, in a random
  // addressing form; its base/index registers come from the unreserved ones outside `avoid`
  // (a bit mask of Gpr) and are set and reserved. ESP serves as base only for stack targets,
  // and only while the code has not changed ESP.
  asmjit::x86::Mem mem(uint32_t target, uint32_t size, uint32_t avoid = 0);

  // Records the flag effect of the instruction just emitted: `written` bits get defined values,
  // `undefined` bits become architecturally undefined.
  void flags(uint32_t written, uint32_t undefined = 0) {
    tc_.undefined_flags = (tc_.undefined_flags & ~written) | undefined;
  }
  uint32_t undefined_flags() const { return tc_.undefined_flags; }

  // Raw instruction bytes (forms AsmJit will not produce).
  void raw(std::initializer_list<uint8_t> bytes);
  // When the case is finished, register `reg` / the dword at `address` get `label`'s address.
  void reg_label(unsigned reg, asmjit::Label label);
  void data_label(uint32_t address, asmjit::Label label);

  // Assembles the code; throws std::logic_error on a generator bug.
  TestCase finish();

 private:
  TestCase tc_;
  uint32_t reserved_ = 0;
  uint32_t clobbered_ = 0;
  std::vector<std::pair<unsigned, asmjit::Label>> reg_labels_;
  std::vector<std::pair<uint32_t, asmjit::Label>> data_labels_;
};

}  // namespace difftest
