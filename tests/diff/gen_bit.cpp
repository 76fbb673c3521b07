// bit: bt/bts/btr/btc with register and immediate offsets on registers and memory (memory
// forms with bit offsets far outside the addressed dword), bsf/bsr including a zero source.
#include <fmt/format.h>

#include "case_builder.h"
#include "case_classes.h"

namespace difftest {
namespace {

using namespace asmjit;

struct BitOp {
  const char* name;
  InstId id;
  bool writes;
};
const BitOp kBitOps[] = {{"bt", x86::Inst::kIdBt, false},
                         {"bts", x86::Inst::kIdBts, true},
                         {"btr", x86::Inst::kIdBtr, true},
                         {"btc", x86::Inst::kIdBtc, true}};

// bt*: CF is the selected bit, ZF is unaffected, the other arithmetic flags undefined.
constexpr uint32_t kBtUndefined = kOF | kSF | kAF | kPF;
// bsf/bsr: ZF tells whether the source was zero, the others are undefined.
constexpr uint32_t kScanUndefined = kCF | kOF | kSF | kAF | kPF;

// The data area is filled completely for memory forms with register offsets, so that offsets
// far from the operand still read initialised bytes.
constexpr uint32_t kWholeData = kDataSize;
// Effective addresses for register-offset memory forms sit in the middle of the data area; bit
// offsets stay within +-kMaxByteReach bytes of it.
constexpr uint32_t kMiddle = kDataBase + kDataSize / 2;
constexpr int32_t kMaxByteReach = 0x6000;

unsigned pick_reg(Rng& rng, unsigned avoid_holder = 8) {
  unsigned id;
  do {
    id = rng.below(8);
  } while (id == kEsp || id == avoid_holder);
  return id;
}

void emit_bt_reg(CaseBuilder& b, const BitOp& op, unsigned bits, uint32_t offset) {
  const unsigned dst = pick_reg(b.rng);
  const unsigned src = b.rng.chance(10) ? dst : pick_reg(b.rng, dst);
  b.suggest(bits, dst, b.rng.value(bits));
  b.suggest(bits, src, offset);
  b.a.emit(op.id, gp(bits, dst), gp(bits, src));
  b.flags(kCF | kBtUndefined, kBtUndefined);
  if (op.writes) b.clobber(dst);
}

void emit_bt_reg_imm(CaseBuilder& b, const BitOp& op, unsigned bits, uint32_t imm) {
  const unsigned dst = pick_reg(b.rng);
  b.suggest(bits, dst, b.rng.value(bits));
  b.a.emit(op.id, gp(bits, dst), Imm(imm & 0xff));
  b.flags(kCF | kBtUndefined, kBtUndefined);
  if (op.writes) b.clobber(dst);
}

void emit_bt_mem_imm(CaseBuilder& b, const BitOp& op, unsigned bits, uint32_t imm) {
  const x86::Mem m = b.mem(b.data_address(bits / 8), bits / 8);
  if (op.writes && b.rng.chance(20)) b.a.lock();
  b.a.emit(op.id, m, Imm(imm & 0xff));
  b.flags(kCF | kBtUndefined, kBtUndefined);
}

// `offset` is the signed bit offset from the effective address.
void emit_bt_mem_reg(CaseBuilder& b, const BitOp& op, unsigned bits, int32_t offset) {
  const unsigned src = pick_reg(b.rng);
  b.set_operand(bits, src, static_cast<uint32_t>(offset));
  const uint32_t target = kMiddle + 4 * static_cast<uint32_t>(b.rng.srange(-64, 64));
  const x86::Mem m = b.mem(target, bits / 8);
  if (op.writes && b.rng.chance(20)) b.a.lock();
  b.a.emit(op.id, m, gp(bits, src));
  b.flags(kCF | kBtUndefined, kBtUndefined);
}

void emit_scan(CaseBuilder& b, bool forward, unsigned bits, uint32_t source, bool from_mem) {
  const InstId id = forward ? x86::Inst::kIdBsf : x86::Inst::kIdBsr;
  const unsigned dst = pick_reg(b.rng);
  b.suggest(bits, dst, b.rng.value(bits));
  if (from_mem) {
    const uint32_t at = b.data_address(bits / 8);
    b.write_data(at, &source, bits / 8);
    b.a.emit(id, gp(bits, dst), b.mem(at, bits / 8));
  } else {
    const unsigned src = b.rng.chance(10) ? dst : pick_reg(b.rng, dst);
    b.set_operand(bits, src, source);
    b.a.emit(id, gp(bits, dst), gp(bits, src));
  }
  b.flags(kArithFlags, kScanUndefined);
  b.clobber(dst);
}

int32_t random_mem_offset(Rng& rng, unsigned bits) {
  if (bits == 16) return static_cast<int16_t>(rng.u32());
  return rng.srange(-kMaxByteReach * 8, kMaxByteReach * 8);
}

void edge_cases(Rng& rng, std::vector<TestCase>& out) {
  for (const BitOp& op : kBitOps) {
    for (unsigned bits : {16u, 32u}) {
      for (uint32_t off : {0u, 1u, 15u, 16u, 31u, 32u, 33u, 0xffffffffu, 0x80000000u}) {
        CaseBuilder b(fmt::format("bit.edge.{}{}.reg.{:x}", op.name, bits, off), rng);
        emit_bt_reg(b, op, bits, off);
        out.push_back(b.finish());
      }
      for (uint32_t imm : {0u, 1u, 15u, 16u, 31u, 32u, 63u, 255u}) {
        CaseBuilder r(fmt::format("bit.edge.{}{}.imm.{}", op.name, bits, imm), rng);
        emit_bt_reg_imm(r, op, bits, imm);
        out.push_back(r.finish());
        CaseBuilder m(fmt::format("bit.edge.{}{}.mem_imm.{}", op.name, bits, imm), rng);
        emit_bt_mem_imm(m, op, bits, imm);
        out.push_back(m.finish());
      }
      const std::vector<int32_t> offsets =
          bits == 16 ? std::vector<int32_t>{0, 7, 8, 15, 16, -1, -16, -17, 0x7fff, -0x8000}
                     : std::vector<int32_t>{0, 7, 8, 31, 32, -1, -32, -33, 0x1ffff, -0x20000};
      for (int32_t off : offsets) {
        CaseBuilder b(fmt::format("bit.edge.{}{}.mem_reg.{}", op.name, bits, off), rng, kWholeData);
        emit_bt_mem_reg(b, op, bits, off);
        out.push_back(b.finish());
      }
    }
  }
  for (bool forward : {true, false}) {
    for (unsigned bits : {16u, 32u}) {
      for (uint32_t src : {0u, 1u, 0x80000000u, 0xffffffffu, 0x10000u, 0x8000u, 0x100u, 0x8001u}) {
        for (bool from_mem : {false, true}) {
          CaseBuilder b(fmt::format("bit.edge.{}{}.{}.{:x}", forward ? "bsf" : "bsr", bits,
                                    from_mem ? "mem" : "reg", src),
                        rng);
          emit_scan(b, forward, bits, src & width_mask(bits), from_mem);
          out.push_back(b.finish());
        }
      }
    }
  }
}

void random_cases(Rng& rng, std::vector<TestCase>& out, int count) {
  for (int i = 0; i < count; ++i) {
    const uint32_t kind = rng.below(5);
    CaseBuilder b(fmt::format("bit.rand.{}", i), rng, kind == 3 ? kWholeData : 256);
    const BitOp& op = kBitOps[rng.below(4)];
    const unsigned bits = rng.coin() ? 16 : 32;
    switch (kind) {
      case 0:
        emit_bt_reg(b, op, bits, rng.value(32));
        break;
      case 1:
        emit_bt_reg_imm(b, op, bits, rng.below(256));
        break;
      case 2:
        emit_bt_mem_imm(b, op, bits, rng.below(256));
        break;
      case 3:
        emit_bt_mem_reg(b, op, bits, random_mem_offset(rng, bits));
        break;
      default: {
        uint32_t src = rng.value(bits);
        if (rng.chance(50)) src &= rng.u32() & rng.u32();  // sparse bits
        emit_scan(b, rng.coin(), bits, src, rng.chance(30));
        break;
      }
    }
    out.push_back(b.finish());
  }
}

}  // namespace

std::vector<TestCase> gen_bit() {
  Rng rng(0xb17u);
  std::vector<TestCase> out;
  edge_cases(rng, out);
  random_cases(rng, out, 600);
  return out;
}

}  // namespace difftest
