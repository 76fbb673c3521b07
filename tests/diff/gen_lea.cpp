// lea: every 32-bit addressing form (ESP and EBP bases, index scales, disp8/disp32, no base,
// base == index) with arbitrary register values (the sums wrap), 16-bit destinations, and the
// 16-bit addressing forms of the address-size prefix.
#include <fmt/format.h>

#include "case_builder.h"
#include "case_classes.h"

namespace difftest {
namespace {

using namespace asmjit;

enum Form {
  kAbs,
  kBase,
  kBaseDisp8,
  kBaseDisp32,
  kBaseIndex,
  kBaseIndexDisp8,
  kBaseIndexDisp32,
  kIndexDisp32,
  kSameBaseIndex,
  kFormCount
};
constexpr const char* kFormNames[] = {"abs",   "base",   "base_d8",   "base_d32", "bi",
                                      "bi_d8", "bi_d32", "index_d32", "same"};

// `base` may be ESP or EBP; `index` never ESP (not encodable).
x86::Mem address(Form form, unsigned base, unsigned index, uint32_t shift, Rng& rng) {
  const int32_t d8 = rng.srange(-128, 127);
  int32_t d32 = static_cast<int32_t>(rng.u32());
  if (d32 >= -128 && d32 <= 127) d32 = 0x12345678;
  const x86::Gp b = x86::gpd(base), i = x86::gpd(index);
  switch (form) {
    case kAbs:
      return x86::ptr(uint64_t{static_cast<uint32_t>(d32)});
    case kBase:
      return x86::ptr(b);
    case kBaseDisp8:
      return x86::ptr(b, d8);
    case kBaseDisp32:
      return x86::ptr(b, d32);
    case kBaseIndex:
      return x86::ptr(b, i, shift);
    case kBaseIndexDisp8:
      return x86::ptr(b, i, shift, d8);
    case kBaseIndexDisp32:
      return x86::ptr(b, i, shift, d32);
    case kIndexDisp32:
      return x86::ptr(uint64_t{static_cast<uint32_t>(d32)}, i, shift);
    default:
      return x86::ptr(i, i, shift, d8);  // kSameBaseIndex: the index serves as base
  }
}

void emit_lea(CaseBuilder& b, Form form, unsigned base, unsigned index, unsigned dst_bits) {
  Rng& rng = b.rng;
  const x86::Mem m = address(form, base, index, rng.below(4), rng);
  unsigned dst = rng.below(8);
  if (dst == kEsp && rng.chance(70)) dst = kEbx;
  b.a.lea(gp(dst_bits, dst), m);
  b.clobber(dst);
}

unsigned pick_index(Rng& rng) {
  unsigned r;
  do {
    r = rng.below(8);
  } while (r == kEsp);
  return r;
}

// lea with the 0x67 prefix: 16-bit addressing ([bx+si], [bp+di+disp8], [disp16], ...); with 0x66
// too the destination is 16 bits.
void emit_lea16(CaseBuilder& b, unsigned mod, unsigned rm, bool dst16) {
  Rng& rng = b.rng;
  const unsigned dst = rng.below(8);
  if (dst16) b.raw({0x66});
  b.raw({0x67, 0x8d, static_cast<uint8_t>(mod << 6 | dst << 3 | rm)});
  if (mod == 1) b.raw({static_cast<uint8_t>(rng.u32())});
  if (mod == 2 || (mod == 0 && rm == 6)) {
    const uint32_t d = rng.u32();
    b.raw({static_cast<uint8_t>(d), static_cast<uint8_t>(d >> 8)});
  }
  b.clobber(dst);
}

void edge_cases(Rng& rng, std::vector<TestCase>& out) {
  for (int f = 0; f < kFormCount; ++f) {
    for (unsigned base = 0; base < 8; ++base) {
      for (unsigned dst_bits : {32u, 16u}) {
        if (dst_bits == 16 && base % 2) continue;
        CaseBuilder b(fmt::format("lea.edge.{}.r{}.d{}", kFormNames[f], base, dst_bits), rng);
        emit_lea(b, static_cast<Form>(f), base, pick_index(rng), dst_bits);
        out.push_back(b.finish());
      }
    }
  }
  for (unsigned mod = 0; mod < 3; ++mod) {
    for (unsigned rm = 0; rm < 8; ++rm) {
      for (bool dst16 : {false, true}) {
        CaseBuilder b(fmt::format("lea.edge.addr16.mod{}.rm{}{}", mod, rm, dst16 ? ".d16" : ""),
                      rng);
        emit_lea16(b, mod, rm, dst16);
        out.push_back(b.finish());
      }
    }
  }
}

void random_cases(Rng& rng, std::vector<TestCase>& out, int count) {
  for (int i = 0; i < count; ++i) {
    CaseBuilder b(fmt::format("lea.rand.{}", i), rng);
    const int n = 1 + static_cast<int>(rng.below(3));
    for (int k = 0; k < n; ++k) {
      if (rng.chance(10)) {
        emit_lea16(b, rng.below(3), rng.below(8), rng.coin());
        continue;
      }
      const Form form = static_cast<Form>(rng.below(kFormCount));
      emit_lea(b, form, rng.below(8), pick_index(rng), rng.chance(15) ? 16 : 32);
    }
    out.push_back(b.finish());
  }
}

}  // namespace

std::vector<TestCase> gen_lea() {
  Rng rng(0x1eau);
  std::vector<TestCase> out;
  edge_cases(rng, out);
  random_cases(rng, out, 500);
  return out;
}

}  // namespace difftest
