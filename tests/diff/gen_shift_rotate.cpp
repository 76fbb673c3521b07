// shift_rotate: shl/shr/sar/rol/ror/rcl/rcr by 1, by imm8 and by cl (counts 0, 1, width-1,
// width, beyond width and beyond the 5-bit mask), register and memory destinations; shld/shrd.
#include <fmt/format.h>

#include <algorithm>

#include "case_builder.h"
#include "case_classes.h"

namespace difftest {
namespace {

using namespace asmjit;

enum class Kind { kShlShr, kSar, kRotate, kRotateCarry };

struct ShiftOp {
  const char* name;
  InstId id;
  Kind kind;
  uint8_t modrm_reg;  // the /digit of the C0/C1/D0-D3 encodings
};

const ShiftOp kOps[] = {
    {"rol", x86::Inst::kIdRol, Kind::kRotate, 0},
    {"ror", x86::Inst::kIdRor, Kind::kRotate, 1},
    {"rcl", x86::Inst::kIdRcl, Kind::kRotateCarry, 2},
    {"rcr", x86::Inst::kIdRcr, Kind::kRotateCarry, 3},
    {"shl", x86::Inst::kIdShl, Kind::kShlShr, 4},
    {"shr", x86::Inst::kIdShr, Kind::kShlShr, 5},
    {"sar", x86::Inst::kIdSar, Kind::kSar, 7},
};

constexpr uint32_t kShiftFlags = kCF | kPF | kAF | kZF | kSF | kOF;

// Flag effect per the SDM: a masked count of 0 changes nothing; OF is defined only for a
// count of 1; shifts leave AF undefined; shl/shr leave CF undefined once count >= width.
void record_flags(CaseBuilder& b, Kind kind, unsigned bits, uint32_t count) {
  const uint32_t c = count & 0x1f;
  if (c == 0) return;
  const uint32_t of = c == 1 ? 0 : kOF;
  switch (kind) {
    case Kind::kShlShr:
      b.flags(kShiftFlags, kAF | of | (c >= bits ? kCF : 0));
      break;
    case Kind::kSar:
      b.flags(kShiftFlags, kAF | of);
      break;
    case Kind::kRotate:
    case Kind::kRotateCarry:
      b.flags(kCF | kOF, of);
      break;
  }
}

// shld/shrd: as shifts, except that a 16-bit count above 16 leaves the result undefined (never
// generated).
void record_double_flags(CaseBuilder& b, uint32_t count) {
  const uint32_t c = count & 0x1f;
  if (c == 0) return;
  b.flags(kShiftFlags, kAF | (c == 1 ? 0 : kOF));
}

std::vector<uint32_t> edge_counts(unsigned bits) {
  std::vector<uint32_t> c = {0, 1, 2, bits - 1, bits, bits + 1, 31, 32, 33, 255};
  std::sort(c.begin(), c.end());
  c.erase(std::unique(c.begin(), c.end()), c.end());
  return c;
}

unsigned pick_dst(Rng& rng, unsigned bits) {
  unsigned id = rng.below(8);
  if (bits != 8 && id == kEsp) id = rng.pick({0u, 2u, 3u, 5u, 6u, 7u});
  return id;
}

enum class CountForm { kOne, kImm, kCl };

// Emits `op dst, count`; `dst_mem` chooses a memory destination.
void emit_shift(CaseBuilder& b, const ShiftOp& op, unsigned bits, CountForm form, uint32_t count,
                bool dst_mem) {
  Rng& rng = b.rng;
  if (form == CountForm::kCl) {
    // cl may already hold a value the case depends on (an earlier count or an address).
    if (b.reserved(kEcx)) {
      count = b.operand(8, 1);
    } else {
      b.set_operand(8, 1, count);
    }
  }
  Operand dst;
  unsigned dst_id = 0;
  if (dst_mem) {
    const uint32_t size = bits / 8;
    dst = b.mem(rng.chance(20) ? b.stack_address(size) : b.data_address(size), size);
  } else {
    dst_id = pick_dst(rng, bits);
    b.suggest(bits, dst_id, rng.value(bits));
    dst = gp(bits, dst_id);
  }
  switch (form) {
    case CountForm::kOne:
      b.a.emit(op.id, dst, Imm(1));
      break;
    case CountForm::kImm:
      b.a.emit(op.id, dst, Imm(count & 0xff));
      break;
    case CountForm::kCl:
      b.a.emit(op.id, dst, x86::cl);
      break;
  }
  record_flags(b, op.kind, bits, form == CountForm::kOne ? 1 : count);
  if (!dst_mem) b.clobber(holder(bits, dst_id));
}

void emit_double(CaseBuilder& b, bool left, unsigned bits, bool by_cl, uint32_t count,
                 bool dst_mem) {
  Rng& rng = b.rng;
  if (by_cl) b.set_operand(8, 1, count);
  unsigned src = rng.below(8);
  if (src == kEsp) src = kEbx;
  b.suggest(bits, src, rng.value(bits));
  Operand dst;
  unsigned dst_id = 0;
  if (dst_mem) {
    dst = b.mem(b.data_address(bits / 8), bits / 8);
  } else {
    dst_id = pick_dst(rng, bits);
    b.suggest(bits, dst_id, rng.value(bits));
    dst = gp(bits, dst_id);
  }
  const InstId id = left ? x86::Inst::kIdShld : x86::Inst::kIdShrd;
  if (by_cl) {
    b.a.emit(id, dst, gp(bits, src), x86::cl);
  } else {
    b.a.emit(id, dst, gp(bits, src), Imm(count & 0xff));
  }
  record_double_flags(b, count);
  if (!dst_mem) b.clobber(holder(bits, dst_id));
}

// A shld/shrd count that keeps a 16-bit result defined (masked count <= 16).
uint32_t double_count(Rng& rng, unsigned bits) {
  if (bits == 32) return rng.chance(30) ? rng.pick({0u, 1u, 31u, 32u, 33u, 63u}) : rng.below(256);
  const uint32_t c = rng.chance(40) ? rng.pick({0u, 1u, 15u, 16u}) : rng.below(17);
  return c + (rng.chance(20) ? 32 * rng.range(1, 7) : 0);
}

void edge_cases(Rng& rng, std::vector<TestCase>& out) {
  for (const ShiftOp& op : kOps) {
    for (unsigned bits : {8u, 16u, 32u}) {
      for (int v = 0; v < 3; ++v) {
        CaseBuilder b(fmt::format("shift.edge.{}{}.by1.{}", op.name, bits, v), rng);
        emit_shift(b, op, bits, CountForm::kOne, 1, false);
        out.push_back(b.finish());
      }
      for (uint32_t count : edge_counts(bits)) {
        for (CountForm form : {CountForm::kImm, CountForm::kCl}) {
          CaseBuilder b(fmt::format("shift.edge.{}{}.{}{}", op.name, bits,
                                    form == CountForm::kImm ? "imm" : "cl", count),
                        rng);
          emit_shift(b, op, bits, form, count, false);
          out.push_back(b.finish());
        }
      }
      // C1 /r ib with an immediate of 1: the same count as D1, a different encoding.
      CaseBuilder b(fmt::format("shift.edge.{}{}.c1_imm1", op.name, bits), rng);
      const uint8_t modrm = static_cast<uint8_t>(0xc0 | (op.modrm_reg << 3) | kEdx);
      if (bits == 16) b.raw({0x66});
      b.raw({static_cast<uint8_t>(bits == 8 ? 0xc0 : 0xc1), modrm, 0x01});
      record_flags(b, op.kind, bits, 1);
      out.push_back(b.finish());
    }
  }
  for (bool left : {true, false}) {
    for (unsigned bits : {16u, 32u}) {
      std::vector<uint32_t> counts = {0, 1, 2, bits - 1, bits};
      if (bits == 32) counts.insert(counts.end(), {33, 255});
      for (uint32_t count : counts) {
        for (bool by_cl : {false, true}) {
          CaseBuilder b(fmt::format("shift.edge.{}{}.{}{}", left ? "shld" : "shrd", bits,
                                    by_cl ? "cl" : "imm", count),
                        rng);
          emit_double(b, left, bits, by_cl, count, false);
          out.push_back(b.finish());
        }
      }
    }
  }
}

void random_cases(Rng& rng, std::vector<TestCase>& out, int count) {
  for (int i = 0; i < count; ++i) {
    CaseBuilder b(fmt::format("shift.rand.{}", i), rng, 512);
    const int n = 1 + static_cast<int>(rng.below(2));
    for (int k = 0; k < n; ++k) {
      const bool dst_mem = rng.chance(30);
      if (rng.chance(20)) {
        const unsigned bits = rng.coin() ? 16 : 32;
        const bool by_cl = !b.reserved(kEcx) && rng.coin();
        emit_double(b, rng.coin(), bits, by_cl, double_count(rng, bits), dst_mem);
        continue;
      }
      const ShiftOp* op = &kOps[rng.below(std::size(kOps))];
      // rcl/rcr read CF: not after a shift that left it undefined.
      while (op->kind == Kind::kRotateCarry && (b.undefined_flags() & kCF)) {
        op = &kOps[rng.below(std::size(kOps))];
      }
      const unsigned bits = rng.pick({8u, 16u, 32u});
      CountForm form = rng.pick({CountForm::kOne, CountForm::kImm, CountForm::kCl});
      if (form == CountForm::kCl && b.clobbered(kEcx)) form = CountForm::kImm;
      const uint32_t c = rng.chance(40) ? rng.pick(edge_counts(bits)) : rng.below(256);
      emit_shift(b, *op, bits, form, c, dst_mem);
    }
    out.push_back(b.finish());
  }
}

}  // namespace

std::vector<TestCase> gen_shift_rotate() {
  Rng rng(0x5417u);
  std::vector<TestCase> out;
  edge_cases(rng, out);
  random_cases(rng, out, 800);
  return out;
}

}  // namespace difftest
