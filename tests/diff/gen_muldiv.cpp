// muldiv: mul/imul (one, two and three operands) and div/idiv in 8/16/32 bits from registers
// and memory, including #DE for a zero divisor and for quotients that do not fit.
#include <fmt/format.h>

#include "case_builder.h"
#include "case_classes.h"

namespace difftest {
namespace {

using namespace asmjit;

// mul/imul define CF and OF only.
constexpr uint32_t kMulUndefined = kSF | kZF | kAF | kPF;

// All ones in the double-width dividend of a `bits`-wide division.
uint64_t wide_mask(unsigned bits) {
  return bits == 32 ? ~0ull : (uint64_t{1} << (2 * bits)) - 1;
}

int64_t sign_extend(uint64_t v, unsigned bits) {
  const unsigned shift = 64 - bits;
  return static_cast<int64_t>(v << shift) >> shift;
}

// Whether div/idiv of the 2*bits-wide `dividend` by `divisor` raises #DE.
bool divide_faults(bool is_signed, unsigned bits, uint64_t dividend, uint32_t divisor) {
  divisor &= width_mask(bits);
  if (divisor == 0) return true;
  if (!is_signed) return dividend / divisor > width_mask(bits);
  const __int128 q =
      static_cast<__int128>(sign_extend(dividend, 2 * bits)) / sign_extend(divisor, bits);
  const __int128 limit = __int128{1} << (bits - 1);
  return q < -limit || q >= limit;
}

// The implicit dividend (AX, DX:AX or EDX:EAX) as currently set in the builder.
uint64_t dividend_of(CaseBuilder& b, unsigned bits) {
  if (bits == 8) return b.operand(16, kEax);
  return (static_cast<uint64_t>(b.operand(bits, kEdx)) << bits) | b.operand(bits, kEax);
}

void set_dividend(CaseBuilder& b, unsigned bits, uint64_t v) {
  if (bits == 8) {
    b.set_operand(16, kEax, static_cast<uint32_t>(v));
    return;
  }
  b.set_operand(bits, kEax, static_cast<uint32_t>(v & width_mask(bits)));
  b.set_operand(bits, kEdx, static_cast<uint32_t>(v >> bits));
}

// A dividend whose quotient by `divisor` fits (divisor != 0).
uint64_t fitting_dividend(Rng& rng, bool is_signed, unsigned bits, uint32_t divisor) {
  const uint64_t mask = width_mask(bits);
  if (!is_signed) {
    const uint64_t high = rng.below(divisor);
    return (high << bits) | (rng.u32() & mask);
  }
  const int64_t d = sign_extend(divisor, bits);
  const int64_t half = int64_t{1} << (bits - 1);
  int64_t q = rng.chance(30) ? rng.pick<int64_t>({-half, half - 1, 0, -1, 1})
                             : sign_extend(rng.u32() & mask, bits);
  const int64_t abs_d = d < 0 ? -d : d;
  int64_t r = abs_d > 1 ? static_cast<int64_t>(rng.below(static_cast<uint32_t>(abs_d - 1))) : 0;
  const int64_t product = q * d;
  if (product < 0 || (product == 0 && rng.coin())) r = -r;
  return static_cast<uint64_t>(product + r) & wide_mask(bits);
}

// A divisor (or multiplier) operand: memory, or a register other than the dividend's, or with
// `overlap` one of the dividend's own registers (then `value` is ignored and `*value_out` tells).
Operand divisor_operand(CaseBuilder& b, unsigned bits, uint32_t value, bool from_mem, bool overlap,
                        uint32_t* value_out = nullptr) {
  if (value_out) *value_out = value;
  if (from_mem) {
    const uint32_t at = b.data_address(bits / 8);
    b.write_data(at, &value, bits / 8);
    return b.mem(at, bits / 8, (1u << kEax) | (1u << kEdx));
  }
  unsigned id;
  if (overlap) {
    id = bits == 8 ? b.rng.pick({0u, 4u}) : b.rng.pick({0u, 2u});  // al/ah, (e)ax/(e)dx
    if (value_out) *value_out = b.operand(bits, id);
  } else {
    do {
      id = b.rng.below(8);
    } while (holder(bits, id) == kEax || (bits != 8 && id == kEdx) || id == kEsp);
    b.set_operand(bits, id, value);
  }
  return gp(bits, id);
}

void record_mul(CaseBuilder& b, unsigned bits) {
  b.flags(kArithFlags, kMulUndefined);
  b.clobber(kEax);
  if (bits != 8) b.clobber(kEdx);
}

void mul_case(CaseBuilder& b, bool is_signed, unsigned bits, uint32_t x, uint32_t y, bool from_mem,
              bool overlap) {
  b.set_operand(bits, kEax, x);
  const Operand src = divisor_operand(b, bits, y, from_mem, overlap);
  b.a.emit(is_signed ? x86::Inst::kIdImul : x86::Inst::kIdMul, src);
  record_mul(b, bits);
}

// Sets up and emits div/idiv; the flags are recorded only if it completes.
void div_case(CaseBuilder& b, bool is_signed, unsigned bits, uint64_t dividend, uint32_t divisor,
              bool from_mem, bool overlap) {
  set_dividend(b, bits, dividend);
  uint32_t actual_divisor = 0;
  const Operand src = divisor_operand(b, bits, divisor, from_mem, overlap, &actual_divisor);
  b.a.emit(is_signed ? x86::Inst::kIdIdiv : x86::Inst::kIdDiv, src);
  if (!divide_faults(is_signed, bits, dividend_of(b, bits), actual_divisor)) {
    b.flags(kArithFlags, kArithFlags);
    b.clobber(kEax);
    if (bits != 8) b.clobber(kEdx);
  }
}

void imul2_case(CaseBuilder& b, unsigned bits, uint32_t x, uint32_t y, bool from_mem) {
  unsigned dst;
  do {
    dst = b.rng.below(8);
  } while (dst == kEsp);
  b.set_operand(bits, dst, x);
  Operand src;
  if (from_mem) {
    const uint32_t at = b.data_address(bits / 8);
    b.write_data(at, &y, bits / 8);
    src = b.mem(at, bits / 8);
  } else {
    unsigned s;
    do {
      s = b.rng.below(8);
    } while (s == kEsp || s == dst);
    b.set_operand(bits, s, y);
    src = gp(bits, s);
  }
  b.a.emit(x86::Inst::kIdImul, gp(bits, dst), src);
  b.flags(kArithFlags, kMulUndefined);
  b.clobber(dst);
}

void imul3_case(CaseBuilder& b, unsigned bits, uint32_t y, int32_t imm, bool from_mem) {
  unsigned dst;
  do {
    dst = b.rng.below(8);
  } while (dst == kEsp);
  Operand src;
  if (from_mem) {
    const uint32_t at = b.data_address(bits / 8);
    b.write_data(at, &y, bits / 8);
    src = b.mem(at, bits / 8);
  } else {
    unsigned s;
    do {
      s = b.rng.below(8);
    } while (s == kEsp);
    b.suggest(bits, s, y);
    src = gp(bits, s);
  }
  b.a.emit(x86::Inst::kIdImul, gp(bits, dst), src,
           bits == 16 ? Imm(static_cast<int16_t>(imm)) : Imm(imm));
  b.flags(kArithFlags, kMulUndefined);
  b.clobber(dst);
}

void edge_cases(Rng& rng, std::vector<TestCase>& out) {
  for (unsigned bits : {8u, 16u, 32u}) {
    const uint32_t max = width_mask(bits), sign = sign_bit(bits);
    const std::pair<uint32_t, uint32_t> mul_pairs[] = {
        {0, 0},      {1, 1},        {max, max},   {max, 1},     {sign, 2},
        {sign, max}, {sign - 1, 2}, {0x10, 0x10}, {sign, sign}, {3, sign / 2}};
    for (bool is_signed : {false, true}) {
      int i = 0;
      for (auto [x, y] : mul_pairs) {
        for (bool from_mem : {false, true}) {
          CaseBuilder b(fmt::format("muldiv.edge.{}mul{}.{}.{}", is_signed ? "i" : "", bits, i,
                                    from_mem ? "mem" : "reg"),
                        rng);
          mul_case(b, is_signed, bits, x, y, from_mem, false);
          out.push_back(b.finish());
        }
        ++i;
      }
      CaseBuilder o(fmt::format("muldiv.edge.{}mul{}.self", is_signed ? "i" : "", bits), rng);
      mul_case(o, is_signed, bits, rng.value(bits), 0, false, true);
      out.push_back(o.finish());
    }
    // Unsigned division: exact, largest quotient, zero divisor, quotient overflow.
    const uint64_t wide = wide_mask(bits);
    const struct {
      const char* name;
      uint64_t dividend;
      uint32_t divisor;
    } udivs[] = {{"exact", uint64_t{max} * 3, 3},
                 {"maxq", (uint64_t{max - 1} << bits) | max, max},
                 {"by1", max, 1},
                 {"zero", 1234, 0},
                 {"zero_dividend", 0, 7},
                 {"overflow", uint64_t{5} << bits, 5},
                 {"overflow_by1", uint64_t{1} << bits, 1},
                 {"all_ones", wide, max}};
    for (const auto& d : udivs) {
      for (bool from_mem : {false, true}) {
        CaseBuilder b(
            fmt::format("muldiv.edge.div{}.{}.{}", bits, d.name, from_mem ? "mem" : "reg"), rng);
        div_case(b, false, bits, d.dividend & wide, d.divisor, from_mem, false);
        out.push_back(b.finish());
      }
    }
    const uint64_t min2 = uint64_t{1} << (2 * bits - 1);  // the most negative dividend
    const uint64_t neg1 = wide;
    const struct {
      const char* name;
      uint64_t dividend;
      uint32_t divisor;
    } idivs[] = {{"min_by_m1", min2, max},
                 {"m1_by_m1", neg1, max},
                 {"qmin", (uint64_t{0} - (uint64_t{sign} * 2)) & wide, 2},
                 {"qmax_plus1", uint64_t{sign} * 2, 2},
                 {"neg_rem", (uint64_t{0} - 7) & wide, 2},
                 {"neg_divisor", 7, max - 1},
                 {"zero", 5, 0},
                 {"qmax", uint64_t{sign - 1} * 3 + 2, 3}};
    for (const auto& d : idivs) {
      for (bool from_mem : {false, true}) {
        CaseBuilder b(
            fmt::format("muldiv.edge.idiv{}.{}.{}", bits, d.name, from_mem ? "mem" : "reg"), rng);
        div_case(b, true, bits, d.dividend & wide, d.divisor, from_mem, false);
        out.push_back(b.finish());
      }
    }
    for (bool is_signed : {false, true}) {
      for (int k = 0; k < 3; ++k) {
        CaseBuilder b(fmt::format("muldiv.edge.{}div{}.self{}", is_signed ? "i" : "", bits, k),
                      rng);
        div_case(b, is_signed, bits,
                 (static_cast<uint64_t>(rng.u32()) << 32 | rng.u32()) & wide_mask(bits), 0, false,
                 true);
        out.push_back(b.finish());
      }
    }
  }
  for (unsigned bits : {16u, 32u}) {
    const uint32_t max = width_mask(bits), sign = sign_bit(bits);
    int i = 0;
    for (auto [x, y] : {std::pair<uint32_t, uint32_t>{sign, max},
                        {max, max},
                        {sign - 1, 2},
                        {0x1234, 0x5678},
                        {0, max},
                        {sign, 1}}) {
      for (bool from_mem : {false, true}) {
        CaseBuilder b(fmt::format("muldiv.edge.imul2_{}.{}.{}", bits, i, from_mem ? "mem" : "reg"),
                      rng);
        imul2_case(b, bits, x, y, from_mem);
        out.push_back(b.finish());
      }
      ++i;
    }
    i = 0;
    for (auto [y, imm] : {std::pair<uint32_t, int32_t>{sign, -1},
                          {max, -128},
                          {sign - 1, 127},
                          {0x1234, 0x7fff},
                          {3, -0x8000},
                          {sign / 2, 2}}) {
      for (bool from_mem : {false, true}) {
        CaseBuilder b(fmt::format("muldiv.edge.imul3_{}.{}.{}", bits, i, from_mem ? "mem" : "reg"),
                      rng);
        imul3_case(b, bits, y, imm, from_mem);
        out.push_back(b.finish());
      }
      ++i;
    }
  }
}

void random_cases(Rng& rng, std::vector<TestCase>& out, int count) {
  for (int i = 0; i < count; ++i) {
    CaseBuilder b(fmt::format("muldiv.rand.{}", i), rng);
    const unsigned bits = rng.pick({8u, 16u, 32u});
    const bool from_mem = rng.chance(30);
    switch (rng.below(6)) {
      case 0:
      case 1:
        mul_case(b, rng.coin(), bits, rng.value(bits), rng.value(bits), from_mem, rng.chance(5));
        break;
      case 2:
        imul2_case(b, bits == 8 ? 32 : bits, rng.value(32), rng.value(32), from_mem);
        break;
      case 3: {
        const int32_t imm = rng.coin() ? rng.srange(-128, 127) : static_cast<int32_t>(rng.u32());
        imul3_case(b, bits == 8 ? 32 : bits, rng.value(32), imm, from_mem);
        break;
      }
      default: {
        const bool is_signed = rng.coin();
        uint32_t divisor = rng.value(bits);
        if (divisor == 0 && rng.chance(70)) divisor = 1 + rng.below(width_mask(bits));
        // Mostly quotients that fit; some that overflow or divide by zero (#DE).
        const uint64_t dividend =
            divisor != 0 && rng.chance(85)
                ? fitting_dividend(rng, is_signed, bits, divisor)
                : (static_cast<uint64_t>(rng.u32()) << 32 | rng.u32()) & wide_mask(bits);
        div_case(b, is_signed, bits, dividend, divisor, from_mem, rng.chance(5));
        break;
      }
    }
    out.push_back(b.finish());
  }
}

}  // namespace

std::vector<TestCase> gen_muldiv() {
  Rng rng(0xd1fu);
  std::vector<TestCase> out;
  edge_cases(rng, out);
  random_cases(rng, out, 800);
  return out;
}

}  // namespace difftest
