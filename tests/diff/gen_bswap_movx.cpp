// bswap_movx: bswap on every register, movzx/movsx from 8- and 16-bit registers and memory
// into 16- and 32-bit registers (including high-byte sources and the destination itself).
#include <fmt/format.h>

#include "case_builder.h"
#include "case_classes.h"

namespace difftest {
namespace {

using namespace asmjit;

void emit_bswap(CaseBuilder& b, unsigned reg) {
  b.suggest(32, reg, b.rng.value(32));
  b.a.bswap(x86::gpd(reg));
  b.clobber(reg);
}

// movzx/movsx dst(dst_bits), src(src_bits); src from memory if `from_mem`.
void emit_movx(CaseBuilder& b, bool sign, unsigned dst_bits, unsigned src_bits, bool from_mem,
               int src_id = -1, int dst_id = -1) {
  Rng& rng = b.rng;
  const InstId id = sign ? x86::Inst::kIdMovsx : x86::Inst::kIdMovzx;
  unsigned dst = dst_id >= 0 ? static_cast<unsigned>(dst_id) : rng.below(8);
  if (dst_id < 0 && dst == kEsp && rng.chance(80)) dst = kEdi;
  Operand src;
  if (from_mem) {
    const uint32_t size = src_bits / 8;
    const uint32_t at = rng.chance(15) ? b.stack_address(size) : b.data_address(size);
    if (at >= kDataBase && at < kDataBase + kDataSize) {
      const uint32_t v = rng.value(src_bits);
      b.write_data(at, &v, size);
    }
    src = b.mem(at, size);
  } else {
    const unsigned s = src_id >= 0 ? static_cast<unsigned>(src_id) : rng.below(8);
    b.suggest(src_bits, s, rng.value(src_bits));
    src = gp(src_bits, s);
  }
  b.a.emit(id, gp(dst_bits, dst), src);
  b.clobber(dst);
}

void edge_cases(Rng& rng, std::vector<TestCase>& out) {
  for (unsigned reg = 0; reg < 8; ++reg) {
    for (int v = 0; v < 3; ++v) {
      CaseBuilder b(fmt::format("movx.edge.bswap.r{}.{}", reg, v), rng);
      emit_bswap(b, reg);
      out.push_back(b.finish());
    }
  }
  for (bool sign : {false, true}) {
    for (auto [dst_bits, src_bits] : {std::pair{16u, 8u}, {32u, 8u}, {32u, 16u}}) {
      // Every source register, sign bit set and clear.
      for (unsigned s = 0; s < 8; ++s) {
        for (uint32_t top : {0u, 1u}) {
          CaseBuilder b(fmt::format("movx.edge.{}{}_{}.r{}.top{}", sign ? "movsx" : "movzx",
                                    dst_bits, src_bits, s, top),
                        rng);
          b.set_operand(src_bits, s,
                        top ? sign_bit(src_bits) | rng.value(src_bits)
                            : (sign_bit(src_bits) - 1) & rng.value(src_bits));
          emit_movx(b, sign, dst_bits, src_bits, false, static_cast<int>(s));
          out.push_back(b.finish());
        }
      }
      // The destination is the source's own register (movzx eax, al / movsx eax, ah ...).
      for (unsigned s : {0u, 4u, 3u, 7u}) {
        if (src_bits == 16 && s >= 4) continue;
        CaseBuilder b(fmt::format("movx.edge.{}{}_{}.self{}", sign ? "movsx" : "movzx", dst_bits,
                                  src_bits, s),
                      rng);
        emit_movx(b, sign, dst_bits, src_bits, false, static_cast<int>(s),
                  static_cast<int>(holder(src_bits, s)));
        out.push_back(b.finish());
      }
      for (int v = 0; v < 4; ++v) {
        CaseBuilder b(fmt::format("movx.edge.{}{}_{}.mem.{}", sign ? "movsx" : "movzx", dst_bits,
                                  src_bits, v),
                      rng);
        emit_movx(b, sign, dst_bits, src_bits, true);
        out.push_back(b.finish());
      }
    }
  }
}

void random_cases(Rng& rng, std::vector<TestCase>& out, int count) {
  for (int i = 0; i < count; ++i) {
    CaseBuilder b(fmt::format("movx.rand.{}", i), rng);
    const int n = 1 + static_cast<int>(rng.below(3));
    for (int k = 0; k < n; ++k) {
      if (rng.chance(25)) {
        emit_bswap(b, rng.below(8));
        continue;
      }
      const auto [dst_bits, src_bits] = rng.pick({std::pair{16u, 8u}, {32u, 8u}, {32u, 16u}});
      emit_movx(b, rng.coin(), dst_bits, src_bits, rng.chance(35));
    }
    out.push_back(b.finish());
  }
}

}  // namespace

std::vector<TestCase> gen_bswap_movx() {
  Rng rng(0xb5u);
  std::vector<TestCase> out;
  edge_cases(rng, out);
  random_cases(rng, out, 450);
  return out;
}

}  // namespace difftest
