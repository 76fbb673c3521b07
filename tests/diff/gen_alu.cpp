// alu: add/or/adc/sbb/and/sub/xor/cmp/test/inc/dec/neg/not in 8/16/32 bits, register, memory
// and immediate forms (including the sign-extended imm8 and the 0x82 alias), lock prefixes.
#include <fmt/format.h>

#include "case_builder.h"
#include "case_classes.h"

namespace difftest {
namespace {

using namespace asmjit;

struct AluOp {
  const char* name;
  InstId id;
  uint32_t written;
  uint32_t undefined;
  bool unary;
  bool writes_dst;
};

constexpr uint32_t kLogicalUndefined = kAF;  // and/or/xor/test leave AF undefined
const AluOp kOps[] = {
    {"add", x86::Inst::kIdAdd, kArithFlags, 0, false, true},
    {"or", x86::Inst::kIdOr, kArithFlags, kLogicalUndefined, false, true},
    {"adc", x86::Inst::kIdAdc, kArithFlags, 0, false, true},
    {"sbb", x86::Inst::kIdSbb, kArithFlags, 0, false, true},
    {"and", x86::Inst::kIdAnd, kArithFlags, kLogicalUndefined, false, true},
    {"sub", x86::Inst::kIdSub, kArithFlags, 0, false, true},
    {"xor", x86::Inst::kIdXor, kArithFlags, kLogicalUndefined, false, true},
    {"cmp", x86::Inst::kIdCmp, kArithFlags, 0, false, false},
    {"test", x86::Inst::kIdTest, kArithFlags, kLogicalUndefined, false, false},
    {"inc", x86::Inst::kIdInc, kArithFlags & ~kCF, 0, true, true},
    {"dec", x86::Inst::kIdDec, kArithFlags & ~kCF, 0, true, true},
    {"neg", x86::Inst::kIdNeg, kArithFlags, 0, true, true},
    {"not", x86::Inst::kIdNot, 0, 0, true, true},
};

enum class Form { kRegReg, kRegMem, kMemReg, kRegImm, kMemImm, kReg, kMem };

Imm imm_of(unsigned bits, uint32_t v) {
  switch (bits) {
    case 8:
      return Imm(static_cast<int8_t>(v));
    case 16:
      return Imm(static_cast<int16_t>(v));
    default:
      return Imm(static_cast<int32_t>(v));
  }
}

unsigned pick_reg(Rng& rng, unsigned bits) {
  unsigned id = rng.below(8);
  // ESP as an ALU operand is legal but rare in practice: keep it, but seldom.
  if (bits != 8 && id == kEsp && rng.chance(75)) id = rng.pick({0u, 1u, 2u, 3u, 5u, 6u, 7u});
  return id;
}

x86::Mem pick_mem(CaseBuilder& b, unsigned bits) {
  const uint32_t size = bits / 8;
  const uint32_t target = b.rng.chance(15) ? b.stack_address(size) : b.data_address(size);
  return b.mem(target, size);
}

Form pick_form(Rng& rng, const AluOp& op) {
  if (op.unary) return rng.chance(60) ? Form::kReg : Form::kMem;
  switch (rng.below(5)) {
    case 0:
      return Form::kRegReg;
    case 1:
      return op.id == x86::Inst::kIdTest ? Form::kMemReg : Form::kRegMem;
    case 2:
      return Form::kMemReg;
    case 3:
      return Form::kRegImm;
    default:
      return Form::kMemImm;
  }
}

uint32_t pick_imm(Rng& rng, const AluOp& op, unsigned bits) {
  // Values that fit a sign-extended imm8 make AsmJit pick the 0x83 encoding.
  if (bits != 8 && op.id != x86::Inst::kIdTest && rng.coin()) {
    return static_cast<uint32_t>(rng.srange(-128, 127));
  }
  return rng.value(bits);
}

void emit_alu(CaseBuilder& b, const AluOp& op, unsigned bits, Form form) {
  Rng& rng = b.rng;
  const bool mem_dst = form == Form::kMemReg || form == Form::kMemImm || form == Form::kMem;
  x86::Mem m;
  if (form == Form::kRegMem || mem_dst) m = pick_mem(b, bits);
  const unsigned dst = pick_reg(rng, bits);
  const unsigned src = pick_reg(rng, bits);
  b.suggest(bits, dst, rng.value(bits));
  b.suggest(bits, src, rng.value(bits));
  if (mem_dst && op.writes_dst && rng.chance(15)) b.a.lock();
  switch (form) {
    case Form::kRegReg:
      b.a.emit(op.id, gp(bits, dst), gp(bits, src));
      break;
    case Form::kRegMem:
      b.a.emit(op.id, gp(bits, dst), m);
      break;
    case Form::kMemReg:
      b.a.emit(op.id, m, gp(bits, src));
      break;
    case Form::kRegImm:
      b.a.emit(op.id, gp(bits, dst), imm_of(bits, pick_imm(rng, op, bits)));
      break;
    case Form::kMemImm:
      b.a.emit(op.id, m, imm_of(bits, pick_imm(rng, op, bits)));
      break;
    case Form::kReg:
      b.a.emit(op.id, gp(bits, dst));
      break;
    case Form::kMem:
      b.a.emit(op.id, m);
      break;
  }
  b.flags(op.written, op.undefined);
  if (op.writes_dst && !mem_dst) b.clobber(holder(bits, dst));
}

// Operand pairs that sit on carry, overflow, sign, zero and half-carry boundaries.
std::vector<std::pair<uint32_t, uint32_t>> edge_pairs(unsigned bits) {
  const uint32_t max = width_mask(bits), sign = sign_bit(bits);
  return {{0, 0},
          {1, 1},
          {max, 1},
          {max, max},
          {sign - 1, 1},
          {sign, max},
          {sign, 1},
          {0, 1},
          {sign - 1, max},
          {0x0f, 0x01},
          {0x10, 0x01},
          {sign, sign},
          {sign - 1, sign - 1}};
}

void edge_cases(Rng& rng, std::vector<TestCase>& out) {
  for (const AluOp& op : kOps) {
    const bool reads_cf = op.id == x86::Inst::kIdAdc || op.id == x86::Inst::kIdSbb;
    for (unsigned bits : {8u, 16u, 32u}) {
      const auto pairs = edge_pairs(bits);
      for (size_t i = 0; i < pairs.size(); ++i) {
        if (op.unary && i > 0 && pairs[i].first == pairs[i - 1].first) continue;
        for (uint32_t cf = 0; cf < (reads_cf ? 2u : 1u); ++cf) {
          CaseBuilder b(fmt::format("alu.edge.{}{}.{}.cf{}", op.name, bits, i, cf), rng);
          const unsigned dst = rng.below(4);
          const unsigned src = (dst + 1 + rng.below(3)) % 4 + (bits == 8 && rng.coin() ? 4 : 0);
          b.set_operand(bits, dst, pairs[i].first);
          b.set_operand(bits, src, pairs[i].second);
          if (reads_cf) b.set_flags(cf ? kCF : 0, kCF);
          if (op.unary) {
            b.a.emit(op.id, gp(bits, dst));
          } else {
            b.a.emit(op.id, gp(bits, dst), gp(bits, src));
          }
          b.flags(op.written, op.undefined);
          out.push_back(b.finish());
        }
      }
    }
  }
}

// Encodings AsmJit does not choose on its own.
void encoding_cases(Rng& rng, std::vector<TestCase>& out) {
  struct Raw {
    const char* name;
    std::vector<uint8_t> bytes;
    uint32_t written, undefined;
  };
  const Raw raws[] = {
      {"82_add_al_5", {0x82, 0xc0, 0x05}, kArithFlags, 0},
      {"82_cmp_bl_80", {0x82, 0xfb, 0x80}, kArithFlags, 0},
      {"82_sbb_dh_ff", {0x82, 0xde, 0xff}, kArithFlags, 0},
      {"82_xor_cl_55", {0x82, 0xf1, 0x55}, kArithFlags, kAF},
      {"ff_inc_eax", {0xff, 0xc0}, kArithFlags & ~kCF, 0},
      {"ff_dec_esi", {0xff, 0xce}, kArithFlags & ~kCF, 0},
      {"66ff_inc_cx", {0x66, 0xff, 0xc1}, kArithFlags & ~kCF, 0},
      {"fe_dec_ah", {0xfe, 0xcc}, kArithFlags & ~kCF, 0},
      {"02_add_al_bl", {0x02, 0xc3}, kArithFlags, 0},
      {"03_add_eax_ebx", {0x03, 0xc3}, kArithFlags, 0},
      {"2b_sub_edx_edx", {0x2b, 0xd2}, kArithFlags, 0},
      {"33_xor_ecx_ecx", {0x33, 0xc9}, kArithFlags, kAF},
      {"81_add_eax_7f_long", {0x81, 0xc0, 0x7f, 0x00, 0x00, 0x00}, kArithFlags, 0},
      {"83_and_edi_m1", {0x83, 0xe7, 0xff}, kArithFlags, kAF},
      {"83_cmp_esp_m8", {0x83, 0xfc, 0xf8}, kArithFlags, 0},
      {"66_83_sub_bp_80", {0x66, 0x83, 0xed, 0x80}, kArithFlags, 0},
      {"05_add_eax_imm32", {0x05, 0x01, 0x00, 0x00, 0x80}, kArithFlags, 0},
      {"66_15_adc_ax_imm16", {0x66, 0x15, 0xff, 0x7f}, kArithFlags, 0},
      {"1c_sbb_al_imm8", {0x1c, 0x01}, kArithFlags, 0},
      {"a8_test_al_80", {0xa8, 0x80}, kArithFlags, kAF},
      {"a9_test_eax", {0xa9, 0x00, 0x00, 0x00, 0x80}, kArithFlags, kAF},
      {"84_test_ah_bh", {0x84, 0xe7}, kArithFlags, kAF},
      {"f7_neg_ebp", {0xf7, 0xdd}, kArithFlags, 0},
      {"f6_not_dh", {0xf6, 0xd6}, 0, 0},
      {"66_f7_not_sp", {0x66, 0xf7, 0xd4}, 0, 0},
  };
  for (const Raw& r : raws) {
    for (int variant = 0; variant < 4; ++variant) {
      CaseBuilder b(fmt::format("alu.enc.{}.{}", r.name, variant), rng);
      b.a.embed(r.bytes.data(), r.bytes.size());
      b.flags(r.written, r.undefined);
      out.push_back(b.finish());
    }
  }
}

void random_cases(Rng& rng, std::vector<TestCase>& out, int count) {
  for (int i = 0; i < count; ++i) {
    const AluOp& first = kOps[rng.below(std::size(kOps))];
    CaseBuilder b(fmt::format("alu.rand.{}.{}", i, first.name), rng, 512);
    const int n = 1 + static_cast<int>(rng.below(3));
    for (int k = 0; k < n; ++k) {
      const AluOp& op = k == 0 ? first : kOps[rng.below(std::size(kOps))];
      const unsigned bits = rng.pick({8u, 16u, 32u});
      emit_alu(b, op, bits, pick_form(rng, op));
    }
    out.push_back(b.finish());
  }
}

}  // namespace

std::vector<TestCase> gen_alu() {
  Rng rng(0xa1u);
  std::vector<TestCase> out;
  edge_cases(rng, out);
  encoding_cases(rng, out);
  random_cases(rng, out, 1200);
  return out;
}

}  // namespace difftest
