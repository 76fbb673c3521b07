// x87, MMX and SSE (the Pentium III's SSE1): random operations on operands from the data area
// (ordinary, zero, infinite, NaN and denormal values), whose results, status words and MXCSR
// are stored back to the data area, which the harness compares. Also the state images
// (fxsave, fnsave, fnstenv, fxrstor) and the exceptions: #MF at the next waiting x87
// instruction, #XM, #GP for misaligned operands. Every case starts with fninit and ldmxcsr,
// so the state before it does not matter.
#include <fmt/format.h>

#include <cstring>

#include "case_builder.h"
#include "case_classes.h"

namespace difftest {
namespace {

using namespace asmjit;
namespace Inst = x86::Inst;

constexpr uint32_t kOperands = kDataBase;         // 256 bytes of inputs
constexpr uint32_t kResults = kDataBase + 0x200;  // results (zero before the case)
constexpr uint32_t kImage = kDataBase + 0x400;    // 512-byte state images, 16-byte aligned
constexpr uint32_t kDataBytes = 0x600;

x86::Mem at(uint32_t a, uint32_t size) {
  return x86::Mem(uint64_t(a), size);
}

// Interesting doubles: ordinary, signed zeros, infinities, NaNs, denormals, huge and tiny.
double pick_double(Rng& rng) {
  static const uint64_t special[] = {0,
                                     0x8000000000000000ull,
                                     0x7ff0000000000000ull,
                                     0xfff0000000000000ull,
                                     0x7ff8000000000000ull,
                                     0x7ff4000000000000ull,
                                     0x0000000000000001ull,
                                     0x000fffffffffffffull,
                                     0x7fefffffffffffffull,
                                     0x3ff0000000000000ull,
                                     0xbff0000000000000ull,
                                     0x400921fb54442d18ull};
  uint64_t bits;
  if (rng.chance(25)) {
    bits = rng.pick(std::vector<uint64_t>(std::begin(special), std::end(special)));
  } else {
    const double mag = double(rng.u32()) / double(1u << rng.below(31));
    double d = rng.coin() ? -mag : mag;
    std::memcpy(&bits, &d, 8);
  }
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}

float pick_float(Rng& rng) {
  static const uint32_t special[] = {0,          0x80000000, 0x7f800000, 0xff800000, 0x7fc00000,
                                     0x7fa00000, 0x00000001, 0x007fffff, 0x7f7fffff, 0x3f800000};
  uint32_t bits;
  if (rng.chance(25)) {
    bits = rng.pick(std::vector<uint32_t>(std::begin(special), std::end(special)));
  } else {
    const float mag = float(rng.u32() & 0xffffff) / float(1u << rng.below(24));
    float f = rng.coin() ? -mag : mag;
    std::memcpy(&bits, &f, 4);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

void fill_operands(CaseBuilder& b) {
  for (uint32_t i = 0; i < 8; ++i) {
    const double d = pick_double(b.rng);
    b.write_data(kOperands + 8 * i, &d, 8);
  }
  for (uint32_t i = 0; i < 32; ++i) {
    const float f = pick_float(b.rng);
    b.write_data(kOperands + 64 + 4 * i, &f, 4);
  }
  // Zero the results and images so that both runners start from the same bytes.
  std::vector<uint8_t> zero(kDataBytes - 0x200, 0);
  b.write_data(kResults, zero.data(), zero.size());
}

// fninit; fldcw with a random rounding and precision control (all exceptions masked unless
// `unmask`); ldmxcsr likewise.
void prologue(CaseBuilder& b, uint16_t unmask_x87 = 0, uint32_t unmask_sse = 0) {
  Rng& rng = b.rng;
  const uint16_t cw =
      uint16_t((0x037f & ~0x0f00) | rng.below(4) << 10 | rng.pick({0u, 2u, 3u}) << 8) &
      uint16_t(~unmask_x87);
  const uint32_t mxcsr =
      ((0x1f80 | rng.below(4) << 13 | (rng.chance(20) ? 0x8000u : 0)) & ~unmask_sse);
  b.write_data(kOperands + 0xf0, &cw, 2);
  b.write_data(kOperands + 0xf4, &mxcsr, 4);
  // Registers that are empty or unused still show in images (and QEMU reads empty ones): give
  // every x87/MMX and XMM register a known value first, the same on both sides.
  b.a.fninit();
  for (int i = 0; i < 8; ++i) b.a.fldz();
  b.a.fninit();
  for (unsigned r = 0; r < 8; ++r) b.a.xorps(x86::xmm(r), x86::xmm(r));
  b.a.fldcw(at(kOperands + 0xf0, 2));
  b.a.ldmxcsr(at(kOperands + 0xf4, 4));
}

// ---- x87 ----

void x87_load(CaseBuilder& b) {
  Rng& rng = b.rng;
  switch (rng.below(6)) {
    case 0:
      b.a.fld(at(kOperands + 8 * rng.below(8), 8));
      break;
    case 1:
      b.a.fld(at(kOperands + 64 + 4 * rng.below(32), 4));
      break;
    case 2:
      b.a.fild(at(kOperands + 4 * rng.below(16), 4));
      break;
    case 3:
      b.a.fild(at(kOperands + 8 * rng.below(8), 8));
      break;
    case 4:
      b.a.emit(rng.pick({Inst::kIdFld1, Inst::kIdFldz, Inst::kIdFldpi, Inst::kIdFldl2e,
                         Inst::kIdFldl2t, Inst::kIdFldlg2, Inst::kIdFldln2}));
      break;
    default:
      b.a.fild(at(kOperands + 2 * rng.below(32), 2));
      break;
  }
}

// One operation on a stack of `depth` (>= 2) values; returns the new depth.
unsigned x87_op(CaseBuilder& b, unsigned depth) {
  Rng& rng = b.rng;
  auto& a = b.a;
  switch (rng.below(9)) {
    case 0:
      a.emit(rng.pick({Inst::kIdFaddp, Inst::kIdFsubp, Inst::kIdFsubrp, Inst::kIdFmulp,
                       Inst::kIdFdivp, Inst::kIdFdivrp}),
             x86::st(1));
      return depth - 1;
    case 1:
      a.emit(rng.pick({Inst::kIdFadd, Inst::kIdFsub, Inst::kIdFmul, Inst::kIdFdiv}), x86::st0,
             x86::st(rng.below(depth)));
      return depth;
    case 2:
      a.emit(rng.pick({Inst::kIdFadd, Inst::kIdFmul, Inst::kIdFsubr, Inst::kIdFdivr}),
             at(kOperands + 8 * rng.below(8), 8));
      return depth;
    case 3:
      a.emit(
          rng.pick({Inst::kIdFsqrt, Inst::kIdFabs, Inst::kIdFchs, Inst::kIdFrndint, Inst::kIdFsin,
                    Inst::kIdFcos, Inst::kIdF2xm1, Inst::kIdFtst, Inst::kIdFxam}));
      return depth;
    case 4:
      a.emit(rng.pick({Inst::kIdFprem, Inst::kIdFprem1, Inst::kIdFscale, Inst::kIdFpatan,
                       Inst::kIdFyl2x, Inst::kIdFyl2xp1}));
      return depth;  // fpatan/fyl2x pop one: the final stores cover any depth
    case 5:
      a.fxch(x86::st(1 + rng.below(depth - 1)));
      return depth;
    case 6: {
      // fcomi/fucomi set ZF PF CF and clear OF SF AF.
      a.emit(rng.pick({Inst::kIdFcomi, Inst::kIdFucomi}), x86::st(1 + rng.below(depth - 1)));
      b.flags(kArithFlags);
      return depth;
    }
    case 7:
      a.emit(rng.pick({Inst::kIdFcmovb, Inst::kIdFcmove, Inst::kIdFcmovbe, Inst::kIdFcmovu,
                       Inst::kIdFcmovnb, Inst::kIdFcmovne}),
             x86::st(1 + rng.below(depth - 1)));
      return depth;
    default:
      a.emit(rng.pick({Inst::kIdFcom, Inst::kIdFucom}), x86::st(1 + rng.below(depth - 1)));
      return depth;
  }
}

void x87_case(CaseBuilder& b) {
  fill_operands(b);
  prologue(b);
  for (int i = 0; i < 3; ++i) x87_load(b);
  unsigned depth = 3;
  const int n = 1 + int(b.rng.below(4));
  for (int i = 0; i < n && depth >= 2; ++i) depth = x87_op(b, depth);
  if (b.rng.coin()) b.a.fptan();  // pushes 1.0 (or leaves the stack on a large operand)
  // Store the status word, then everything on the stack (fstp of an empty register stores the
  // indefinite value and sets IE, the same on both sides), then the status word again.
  b.a.fnstsw(at(kResults, 2));
  for (unsigned i = 0; i < 5; ++i) b.a.fstp(at(kResults + 16 + 10 * i, 10));
  b.a.fist(at(kResults + 80, 4));
  b.a.fnstsw(at(kResults + 4, 2));
  b.a.fnstcw(at(kResults + 6, 2));
}

// ---- MMX ----

void mmx_case(CaseBuilder& b) {
  Rng& rng = b.rng;
  fill_operands(b);
  prologue(b);
  auto& a = b.a;
  for (unsigned r = 0; r < 8; ++r) a.movq(x86::mm(r), at(kOperands + 8 * r, 8));
  static const InstId ops[] = {
      Inst::kIdPaddb,    Inst::kIdPaddw,     Inst::kIdPaddd,     Inst::kIdPaddsb,
      Inst::kIdPaddusw,  Inst::kIdPsubb,     Inst::kIdPsubsw,    Inst::kIdPsubusb,
      Inst::kIdPmullw,   Inst::kIdPmulhw,    Inst::kIdPmaddwd,   Inst::kIdPand,
      Inst::kIdPandn,    Inst::kIdPor,       Inst::kIdPxor,      Inst::kIdPcmpeqb,
      Inst::kIdPcmpgtw,  Inst::kIdPcmpgtd,   Inst::kIdPacksswb,  Inst::kIdPackuswb,
      Inst::kIdPackssdw, Inst::kIdPunpcklbw, Inst::kIdPunpckhwd, Inst::kIdPunpckhdq,
      Inst::kIdPsllw,    Inst::kIdPsrad,     Inst::kIdPsrlq,     Inst::kIdPavgb,
      Inst::kIdPmaxub,   Inst::kIdPminsw,    Inst::kIdPsadbw,    Inst::kIdPmulhuw};
  const int n = 2 + int(rng.below(6));
  for (int i = 0; i < n; ++i) {
    const InstId id = ops[rng.below(std::size(ops))];
    const auto dst = x86::mm(rng.below(8));
    if (rng.chance(30))
      a.emit(id, dst, at(kOperands + 8 * rng.below(8), 8));
    else
      a.emit(id, dst, x86::mm(rng.below(8)));
  }
  if (rng.coin()) {
    a.pshufw(x86::mm(rng.below(8)), x86::mm(rng.below(8)), imm(rng.below(256)));
    a.psllq(x86::mm(rng.below(8)), imm(rng.below(70)));
  }
  const unsigned g = rng.pick({unsigned(kEax), unsigned(kEbx), unsigned(kEsi)});
  a.pmovmskb(x86::gpd(g), x86::mm(rng.below(8)));
  b.clobber(g);
  for (unsigned r = 0; r < 8; ++r) a.movq(at(kResults + 8 * r, 8), x86::mm(r));
  a.emms();
  a.fnstsw(at(kResults + 0x80, 2));  // emms empties the tags; the status shows TOP
}

// ---- SSE ----

void sse_case(CaseBuilder& b) {
  Rng& rng = b.rng;
  fill_operands(b);
  prologue(b);
  auto& a = b.a;
  for (unsigned r = 0; r < 8; ++r) a.movups(x86::xmm(r), at(kOperands + 64 + 16 * (r & 7), 16));
  static const InstId ops[] = {
      Inst::kIdAddps,   Inst::kIdAddss, Inst::kIdSubps,    Inst::kIdMulps,    Inst::kIdMulss,
      Inst::kIdDivps,   Inst::kIdDivss, Inst::kIdSqrtps,   Inst::kIdSqrtss,   Inst::kIdMaxps,
      Inst::kIdMinss,   Inst::kIdRcpps, Inst::kIdRsqrtss,  Inst::kIdAndps,    Inst::kIdAndnps,
      Inst::kIdOrps,    Inst::kIdXorps, Inst::kIdUnpcklps, Inst::kIdUnpckhps, Inst::kIdMovhlps,
      Inst::kIdMovlhps, Inst::kIdMovss};
  const int n = 2 + int(rng.below(6));
  for (int i = 0; i < n; ++i) {
    const auto dst = x86::xmm(rng.below(8));
    switch (rng.below(6)) {
      case 0:
        a.cmpps(dst, x86::xmm(rng.below(8)), imm(rng.below(8)));
        break;
      case 1:
        a.shufps(dst, x86::xmm(rng.below(8)), imm(rng.below(256)));
        break;
      case 2: {
        const InstId id = rng.pick({Inst::kIdComiss, Inst::kIdUcomiss});
        a.emit(id, dst, x86::xmm(rng.below(8)));
        b.flags(kArithFlags);
        break;
      }
      case 3: {
        const unsigned g = rng.pick({unsigned(kEax), unsigned(kEdx), unsigned(kEdi)});
        a.emit(rng.pick({Inst::kIdCvtss2si, Inst::kIdCvttss2si}), x86::gpd(g), dst);
        a.mov(at(kResults + 0x100 + 4 * rng.below(8), 4), x86::gpd(g));
        b.clobber(g);
        break;
      }
      case 4:
        a.cvtpi2ps(dst, at(kOperands + 8 * rng.below(8), 8));
        break;
      default: {
        const InstId id = ops[rng.below(std::size(ops))];
        if (id != Inst::kIdMovhlps && id != Inst::kIdMovlhps && rng.chance(25))
          a.emit(id, dst, at(kOperands + 64 + 16 * rng.below(8), id == Inst::kIdAddss ? 4 : 16));
        else
          a.emit(id, dst, x86::xmm(rng.below(8)));
        break;
      }
    }
  }
  for (unsigned r = 0; r < 8; ++r) a.movups(at(kResults + 16 * r, 16), x86::xmm(r));
  a.stmxcsr(at(kResults + 0x80, 4));
  const unsigned g = rng.pick({unsigned(kEcx), unsigned(kEbp)});
  a.movmskps(x86::gpd(g), x86::xmm(rng.below(8)));
  b.clobber(g);
}

// ---- state images ----

// The pointer fields name host addresses and selectors on the native side (and the host's
// MXCSR_MASK): zeroed in the data area, so the rest of the image is compared.
void clear_fx_pointers(CaseBuilder& b, uint32_t img) {
  for (uint32_t off : {6u, 8u, 12u, 16u, 20u, 28u}) b.a.mov(at(img + off, 4), imm(0));
  b.a.mov(at(img + 5, 1), imm(0));  // reserved
  // The six bytes after each 80-bit register are reserved.
  for (uint32_t i = 0; i < 8; ++i) {
    b.a.mov(at(img + 32 + 16 * i + 10, 2), imm(0));
    b.a.mov(at(img + 32 + 16 * i + 12, 4), imm(0));
  }
}
// fnsave/fnstenv (32-bit format): pointers, and the reserved upper halves.
void clear_env_pointers(CaseBuilder& b, uint32_t img) {
  for (uint32_t off : {12u, 16u, 20u, 24u}) b.a.mov(at(img + off, 4), imm(0));
  for (uint32_t off : {2u, 6u, 10u}) b.a.mov(at(img + off, 2), imm(0));
}

void state_case(CaseBuilder& b) {
  Rng& rng = b.rng;
  fill_operands(b);
  prologue(b);
  auto& a = b.a;
  for (int i = 0; i < 1 + int(rng.below(4)); ++i) x87_load(b);
  if (rng.coin()) a.faddp(x86::st(1));
  a.movups(x86::xmm(rng.below(8)), at(kOperands + 64 + 16 * rng.below(8), 16));
  switch (rng.below(4)) {
    case 0:
      a.fxsave(at(kImage, 512));
      clear_fx_pointers(b, kImage);
      break;
    case 1:
      a.fnsave(at(kImage, 108));
      clear_env_pointers(b, kImage);
      a.fnstcw(at(kResults, 2));  // fnsave reinitialised the FPU
      a.fnstsw(at(kResults + 2, 2));
      break;
    case 2:
      a.fnstenv(at(kImage, 28));
      clear_env_pointers(b, kImage);
      a.fnstcw(at(kResults, 2));  // fnstenv masked every exception
      break;
    default:
      // Round trip: save, scramble, restore, save again.
      a.fxsave(at(kImage, 512));
      a.fninit();
      a.xorps(x86::xmm0, x86::xmm0);
      a.fxrstor(at(kImage, 512));
      a.fxsave(at(kImage, 512));
      clear_fx_pointers(b, kImage);
      a.movups(at(kResults, 16), x86::xmm0);
      break;
  }
}

// ---- exceptions ----

void exception_case(CaseBuilder& b) {
  Rng& rng = b.rng;
  fill_operands(b);
  auto& a = b.a;
  switch (rng.below(4)) {
    case 0: {  // #MF: 1/0 with ZE unmasked, reported at the next waiting x87 instruction
      prologue(b, 0x04);
      a.fld1();
      a.fldz();
      a.fdivp(x86::st(1));
      a.mov(x86::eax, imm(rng.u32()));  // runs: the error is not reported yet
      b.clobber(kEax);
      if (rng.coin())
        a.fwait();
      else
        a.fld1();
      break;
    }
    case 1: {  // #XM: an unmasked SIMD error: 0/0 (invalid) or 1/0 (divide by zero)
      const bool invalid = rng.coin();
      prologue(b, 0, invalid ? 0x80u : 0x200u);
      const float zeros[4] = {0, 0, 0, 0}, ones[4] = {1, 1, 1, 1};
      b.write_data(kImage, zeros, 16);
      b.write_data(kImage + 16, invalid ? zeros : ones, 16);
      a.movups(x86::xmm1, at(kImage, 16));
      a.movups(x86::xmm0, at(kImage + 16, 16));
      a.mov(x86::ebx, imm(rng.u32()));  // runs: SIMD errors are reported at the instruction
      b.clobber(kEbx);
      if (rng.coin())
        a.divps(x86::xmm0, x86::xmm1);
      else
        a.divss(x86::xmm0, x86::xmm1);
      break;
    }
    case 2:  // misaligned movaps
      prologue(b);
      a.movaps(x86::xmm2, at(kOperands + 64 + 4 + 8 * rng.below(4), 16));
      break;
    default:  // misaligned fxsave
      prologue(b);
      a.fxsave(at(kImage + 8, 512));
      break;
  }
}

std::vector<TestCase> generate(const char* name, uint32_t seed, int count,
                               void (*body)(CaseBuilder&)) {
  Rng rng(seed);
  std::vector<TestCase> out;
  for (int i = 0; i < count; ++i) {
    CaseBuilder b(fmt::format("{}.{}", name, i), rng, kDataBytes);
    body(b);
    out.push_back(b.finish());
  }
  return out;
}
}  // namespace

std::vector<TestCase> gen_x87() {
  return generate("x87", 0x87, 400, x87_case);
}
std::vector<TestCase> gen_mmx() {
  return generate("mmx", 0x3d, 400, mmx_case);
}
std::vector<TestCase> gen_sse() {
  return generate("sse", 0x55e, 400, sse_case);
}
std::vector<TestCase> gen_fpu_state() {
  return generate("fpu_state", 0xf5, 400, state_case);
}
std::vector<TestCase> gen_fpu_faults() {
  return generate("fpu_faults", 0xfe, 400, exception_case);
}

}  // namespace difftest
