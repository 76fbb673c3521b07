// setcc_cmov: all 16 conditions of setcc (register and memory) and cmovcc (16/32 bits,
// register and memory sources), with flag inputs that reach both outcomes of each condition.
#include <fmt/format.h>

#include "case_builder.h"
#include "case_classes.h"

namespace difftest {
namespace {

using namespace asmjit;

constexpr const char* kCondNames[16] = {"o", "no", "b", "ae", "e", "ne", "be", "a",
                                        "s", "ns", "p", "np", "l", "ge", "le", "g"};
// The flags conditions read, enumerated bit by bit for the edge cases.
constexpr uint32_t kCondFlags[5] = {kCF, kPF, kZF, kSF, kOF};

bool condition_holds(unsigned cc, uint32_t f) {
  const bool cf = f & kCF, pf = f & kPF, zf = f & kZF, sf = f & kSF, of = f & kOF;
  bool r = false;
  switch (cc >> 1) {
    case 0:
      r = of;
      break;
    case 1:
      r = cf;
      break;
    case 2:
      r = zf;
      break;
    case 3:
      r = cf || zf;
      break;
    case 4:
      r = sf;
      break;
    case 5:
      r = pf;
      break;
    case 6:
      r = sf != of;
      break;
    case 7:
      r = zf || sf != of;
      break;
  }
  return (cc & 1) ? !r : r;
}

uint32_t flags_from_combo(uint32_t combo) {
  uint32_t f = 0;
  for (int i = 0; i < 5; ++i) {
    if (combo & (1u << i)) f |= kCondFlags[i];
  }
  return f;
}

void emit_setcc(CaseBuilder& b, unsigned cc, bool to_mem) {
  const InstId id = x86::Inst::setccFromCond(static_cast<x86::CondCode>(cc));
  if (to_mem) {
    b.a.emit(id, b.mem(b.rng.chance(20) ? b.stack_address(1) : b.data_address(1), 1));
    return;
  }
  const unsigned dst = b.rng.below(8);
  b.a.emit(id, gp(8, dst));
  b.clobber(holder(8, dst));
}

void emit_cmov(CaseBuilder& b, unsigned cc, unsigned bits, bool from_mem) {
  const InstId id = x86::Inst::cmovccFromCond(static_cast<x86::CondCode>(cc));
  unsigned dst;
  do {
    dst = b.rng.below(8);
  } while (dst == kEsp);
  b.suggest(bits, dst, b.rng.value(bits));
  if (from_mem) {
    b.a.emit(id, gp(bits, dst), b.mem(b.data_address(bits / 8), bits / 8));
  } else {
    const unsigned src = b.rng.below(8);
    b.suggest(bits, src, b.rng.value(bits));
    b.a.emit(id, gp(bits, dst), gp(bits, src));
  }
  b.clobber(dst);
}

// A flag-setting instruction whose operands are often equal or adjacent, so that equality,
// sign and overflow conditions come out both ways.
void emit_flag_source(CaseBuilder& b) {
  Rng& rng = b.rng;
  const unsigned bits = rng.pick({8u, 16u, 32u});
  unsigned x, y;
  do {
    x = rng.below(8);
    y = rng.below(8);
  } while (holder(bits, x) == kEsp || holder(bits, y) == kEsp ||
           holder(bits, x) == holder(bits, y));
  const uint32_t vx = rng.value(bits);
  uint32_t vy = rng.value(bits);
  if (rng.chance(30)) vy = vx;
  if (rng.chance(20)) vy = vx + rng.pick({1u, ~0u});
  b.suggest(bits, x, vx);
  b.suggest(bits, y, vy);
  const InstId id = rng.pick({x86::Inst::kIdCmp, x86::Inst::kIdCmp, x86::Inst::kIdSub,
                              x86::Inst::kIdAdd, x86::Inst::kIdTest});
  b.a.emit(id, gp(bits, x), gp(bits, y));
  b.flags(kArithFlags, id == x86::Inst::kIdTest ? kAF : 0);
  if (id != x86::Inst::kIdCmp && id != x86::Inst::kIdTest) b.clobber(holder(bits, x));
}

void edge_cases(Rng& rng, std::vector<TestCase>& out) {
  for (unsigned cc = 0; cc < 16; ++cc) {
    for (uint32_t combo = 0; combo < 32; ++combo) {
      const uint32_t f = flags_from_combo(combo);
      const bool to_mem = combo & 1 ? (combo >> 1) & 1 : false;
      CaseBuilder b(fmt::format("setcc.edge.set{}.f{:02x}.{}{}", kCondNames[cc], combo,
                                to_mem ? "mem" : "reg", condition_holds(cc, f) ? ".taken" : ""),
                    rng);
      b.set_flags(f, kArithFlags);
      emit_setcc(b, cc, to_mem);
      out.push_back(b.finish());
    }
    for (uint32_t k = 0; k < 8; ++k) {
      const uint32_t combo = (k * 13 + cc * 7) % 32;
      const uint32_t f = flags_from_combo(combo);
      const unsigned bits = k & 1 ? 16 : 32;
      const bool from_mem = k & 2;
      CaseBuilder b(fmt::format("setcc.edge.cmov{}{}.f{:02x}.{}", kCondNames[cc], bits, combo,
                                from_mem ? "mem" : "reg"),
                    rng);
      b.set_flags(f, kArithFlags);
      emit_cmov(b, cc, bits, from_mem);
      out.push_back(b.finish());
    }
  }
}

void random_cases(Rng& rng, std::vector<TestCase>& out, int count) {
  for (int i = 0; i < count; ++i) {
    CaseBuilder b(fmt::format("setcc.rand.{}", i), rng);
    if (rng.chance(60)) emit_flag_source(b);
    const int n = 1 + static_cast<int>(rng.below(2));
    for (int k = 0; k < n; ++k) {
      const unsigned cc = rng.below(16);
      if (rng.coin()) {
        emit_setcc(b, cc, rng.chance(30));
      } else {
        emit_cmov(b, cc, rng.coin() ? 16 : 32, rng.chance(30));
      }
    }
    out.push_back(b.finish());
  }
}

}  // namespace

std::vector<TestCase> gen_setcc_cmov() {
  Rng rng(0x5e7cu);
  std::vector<TestCase> out;
  edge_cases(rng, out);
  random_cases(rng, out, 500);
  return out;
}

}  // namespace difftest
