// xchg_cmpxchg: xchg register/register and register/memory, cmpxchg with both outcomes,
// cmpxchg8b with both outcomes, xadd; memory forms with and without lock.
#include <fmt/format.h>

#include "case_builder.h"
#include "case_classes.h"

namespace difftest {
namespace {

using namespace asmjit;

unsigned pick_reg(Rng& rng, unsigned bits) {
  unsigned id;
  do {
    id = rng.below(8);
  } while (bits != 8 && id == kEsp);
  return id;
}

x86::Mem pick_mem(CaseBuilder& b, unsigned bits) {
  const uint32_t size = bits / 8;
  return b.mem(b.rng.chance(15) ? b.stack_address(size) : b.data_address(size), size);
}

void emit_xchg(CaseBuilder& b, unsigned bits, bool with_mem, bool lock) {
  const unsigned r = pick_reg(b.rng, bits);
  if (with_mem) {
    const x86::Mem m = pick_mem(b, bits);
    b.suggest(bits, r, b.rng.value(bits));
    if (lock) b.a.lock();
    b.rng.coin() ? b.a.xchg(m, gp(bits, r)) : b.a.xchg(gp(bits, r), m);
  } else {
    const unsigned s = b.rng.chance(10) ? r : pick_reg(b.rng, bits);
    b.suggest(bits, r, b.rng.value(bits));
    b.suggest(bits, s, b.rng.value(bits));
    b.a.xchg(gp(bits, r), gp(bits, s));
    b.clobber(holder(bits, s));
  }
  b.clobber(holder(bits, r));
}

// `equal`: whether the accumulator matches the destination (the exchange happens).
void emit_cmpxchg(CaseBuilder& b, unsigned bits, bool with_mem, bool equal, bool lock) {
  Rng& rng = b.rng;
  const uint32_t size = bits / 8;
  const uint32_t current = rng.value(bits);
  b.set_operand(bits, kEax, equal ? current : current ^ (1u << rng.below(bits)));
  unsigned src;
  do {
    src = pick_reg(rng, bits);
  } while (rng.chance(80) && holder(bits, src) == kEax);
  b.suggest(bits, src, rng.value(bits));
  if (with_mem) {
    const uint32_t at = b.data_address(size);
    b.write_data(at, &current, size);
    const x86::Mem m = b.mem(at, size);
    if (lock) b.a.lock();
    b.a.cmpxchg(m, gp(bits, src));
  } else {
    unsigned dst;
    do {
      dst = pick_reg(rng, bits);
    } while (holder(bits, dst) == kEax && rng.chance(80));
    if (holder(bits, dst) != kEax) b.set_operand(bits, dst, current);
    b.a.cmpxchg(gp(bits, dst), gp(bits, src));
    b.clobber(holder(bits, dst));
  }
  b.flags(kArithFlags);
  b.clobber(kEax);
}

void emit_cmpxchg8b(CaseBuilder& b, bool equal, bool lock) {
  Rng& rng = b.rng;
  const uint32_t at = b.data_address(8, rng.coin() ? 8 : 1);
  const uint32_t lo = b.read_data(at, 4), hi = b.read_data(at + 4, 4);
  b.set(kEax, equal || rng.coin() ? lo : lo ^ 1);
  b.set(kEdx, equal ? hi : (b.in().gpr[kEax] == lo ? hi ^ 0x80000000u : hi));
  b.set(kEcx, rng.value(32));
  b.set(kEbx, rng.value(32));
  const x86::Mem m = b.mem(at, 8);
  if (lock) b.a.lock();
  b.a.cmpxchg8b(m);
  b.flags(kZF);
  b.clobber(kEax);
  b.clobber(kEdx);
}

void emit_xadd(CaseBuilder& b, unsigned bits, bool with_mem, bool lock) {
  const unsigned src = pick_reg(b.rng, bits);
  if (with_mem) {
    const x86::Mem m = pick_mem(b, bits);
    b.suggest(bits, src, b.rng.value(bits));
    if (lock) b.a.lock();
    b.a.xadd(m, gp(bits, src));
  } else {
    const unsigned dst = b.rng.chance(10) ? src : pick_reg(b.rng, bits);
    b.suggest(bits, dst, b.rng.value(bits));
    b.suggest(bits, src, b.rng.value(bits));
    b.a.xadd(gp(bits, dst), gp(bits, src));
    b.clobber(holder(bits, dst));
  }
  b.flags(kArithFlags);
  b.clobber(holder(bits, src));
}

void edge_cases(Rng& rng, std::vector<TestCase>& out) {
  for (unsigned bits : {8u, 16u, 32u}) {
    for (int k = 0; k < 4; ++k) {
      const bool with_mem = k & 1, lock = k == 3;
      CaseBuilder x(fmt::format("xchg.edge.xchg{}.{}", bits, k), rng);
      emit_xchg(x, bits, with_mem, lock);
      out.push_back(x.finish());
      CaseBuilder a(fmt::format("xchg.edge.xadd{}.{}", bits, k), rng);
      emit_xadd(a, bits, with_mem, lock);
      out.push_back(a.finish());
    }
    for (bool with_mem : {false, true}) {
      for (bool equal : {false, true}) {
        for (bool lock : {false, true}) {
          if (lock && !with_mem) continue;
          CaseBuilder b(fmt::format("xchg.edge.cmpxchg{}.{}.{}{}", bits, with_mem ? "mem" : "reg",
                                    equal ? "equal" : "differ", lock ? ".lock" : ""),
                        rng);
          emit_cmpxchg(b, bits, with_mem, equal, lock);
          out.push_back(b.finish());
        }
      }
    }
  }
  // Short and same-register encodings: 90+r (xchg eax, r32), 66 90+r, 87 /r with one register.
  const std::vector<std::vector<uint8_t>> raws = {
      {0x91},
      {0x97},
      {0x94},
      {0x66, 0x93},
      {0x87, 0xc9},
      {0x86, 0xe0},
      {0x86, 0xc4},
      {0x66, 0x87, 0xd2},
      {0x0f, 0xb1, 0xc0},  // cmpxchg eax, eax
      {0x0f, 0xc1, 0xc0},  // xadd eax, eax
      {0x0f, 0xc0, 0xe0},  // xadd al, ah
  };
  for (size_t i = 0; i < raws.size(); ++i) {
    for (int v = 0; v < 3; ++v) {
      CaseBuilder b(fmt::format("xchg.edge.raw{}.{}", i, v), rng);
      b.a.embed(raws[i].data(), raws[i].size());
      if (raws[i][0] == 0x0f) b.flags(kArithFlags);
      out.push_back(b.finish());
    }
  }
  for (bool equal : {false, true}) {
    for (bool lock : {false, true}) {
      for (int v = 0; v < 4; ++v) {
        CaseBuilder b(fmt::format("xchg.edge.cmpxchg8b.{}{}.{}", equal ? "equal" : "differ",
                                  lock ? ".lock" : "", v),
                      rng);
        emit_cmpxchg8b(b, equal, lock);
        out.push_back(b.finish());
      }
    }
  }
}

void random_cases(Rng& rng, std::vector<TestCase>& out, int count) {
  for (int i = 0; i < count; ++i) {
    CaseBuilder b(fmt::format("xchg.rand.{}", i), rng);
    const unsigned bits = rng.pick({8u, 16u, 32u});
    const bool with_mem = rng.coin();
    const bool lock = with_mem && rng.chance(30);
    switch (rng.below(7)) {
      case 0:
      case 1:
        emit_xchg(b, bits, with_mem, lock);
        break;
      case 2:
      case 3:
        emit_cmpxchg(b, bits, with_mem, rng.coin(), lock);
        break;
      case 4:
        emit_cmpxchg8b(b, rng.coin(), rng.coin());
        break;
      default:
        emit_xadd(b, bits, with_mem, lock);
        break;
    }
    out.push_back(b.finish());
  }
}

}  // namespace

std::vector<TestCase> gen_xchg_cmpxchg() {
  Rng rng(0xc8bu);
  std::vector<TestCase> out;
  edge_cases(rng, out);
  random_cases(rng, out, 500);
  return out;
}

}  // namespace difftest
