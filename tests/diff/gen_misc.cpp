// misc: clc/stc/cmc/cld/std, lahf/sahf, cbw/cwde/cwd/cdq, xlat, nop forms (one- and multi-byte,
// pause), and the BCD adjustments daa/das/aaa/aas/aam/aad (aam 0 raises #DE), with the flags
// the SDM leaves undefined excluded.
#include <fmt/format.h>

#include <functional>

#include "case_builder.h"
#include "case_classes.h"

namespace difftest {
namespace {

using namespace asmjit;

struct MiscOp {
  const char* name;
  uint32_t reads;  // flags whose values the result depends on
  std::function<void(CaseBuilder&)> emit;
};

constexpr uint32_t kLahfFlags = kSF | kZF | kAF | kPF | kCF;

// daa 27, das 2f, aaa 37, aas 3f.
void bcd(CaseBuilder& b, uint8_t opcode, uint32_t undefined) {
  b.raw({opcode});
  b.flags(kArithFlags, undefined);
  b.clobber(kEax);
}

// aam/aad with an immediate base; AsmJit only spells base 10 (D4 0A), so the bytes are raw.
void aam_aad(CaseBuilder& b, bool aam, uint8_t base) {
  b.raw({static_cast<uint8_t>(aam ? 0xd4 : 0xd5), base});
  if (!aam || base != 0) b.flags(kArithFlags, kOF | kAF | kCF);
  b.clobber(kEax);
}

const std::vector<MiscOp>& ops() {
  static const std::vector<MiscOp> list = {
      {"clc", 0,
       [](CaseBuilder& b) {
         b.a.clc();
         b.flags(kCF);
       }},
      {"stc", 0,
       [](CaseBuilder& b) {
         b.a.stc();
         b.flags(kCF);
       }},
      {"cmc", kCF,
       [](CaseBuilder& b) {
         b.a.cmc();
         b.flags(kCF);
       }},
      {"cld", 0, [](CaseBuilder& b) { b.a.cld(); }},
      {"std", 0, [](CaseBuilder& b) { b.a.std(); }},
      {"lahf", kLahfFlags,
       [](CaseBuilder& b) {
         b.a.lahf();
         b.clobber(kEax);
       }},
      {"sahf", 0,
       [](CaseBuilder& b) {
         b.a.sahf();
         b.flags(kLahfFlags);
       }},
      {"cbw", 0,
       [](CaseBuilder& b) {
         b.a.cbw();
         b.clobber(kEax);
       }},
      {"cwde", 0,
       [](CaseBuilder& b) {
         b.a.cwde();
         b.clobber(kEax);
       }},
      {"cwd", 0,
       [](CaseBuilder& b) {
         b.a.cwd();
         b.clobber(kEdx);
       }},
      {"cdq", 0,
       [](CaseBuilder& b) {
         b.a.cdq();
         b.clobber(kEdx);
       }},
      {"xlat", 0,
       [](CaseBuilder& b) {
         if (!b.reserved(kEbx)) b.set(kEbx, kDataBase + b.rng.below(256));
         b.a.xlatb();
         b.clobber(kEax);
       }},
      {"daa", kAF | kCF, [](CaseBuilder& b) { bcd(b, 0x27, kOF); }},
      {"das", kAF | kCF, [](CaseBuilder& b) { bcd(b, 0x2f, kOF); }},
      {"aaa", kAF, [](CaseBuilder& b) { bcd(b, 0x37, kOF | kSF | kZF | kPF); }},
      {"aas", kAF, [](CaseBuilder& b) { bcd(b, 0x3f, kOF | kSF | kZF | kPF); }},
      {"aam", 0,
       [](CaseBuilder& b) {
         aam_aad(b, true, b.rng.pick<uint8_t>({10, 16, 7, 1, 255}));
       }},
      {"aad", 0,
       [](CaseBuilder& b) {
         aam_aad(b, false, b.rng.pick<uint8_t>({10, 16, 0, 1, 255}));
       }},
  };
  return list;
}

const std::vector<std::vector<uint8_t>>& nop_forms() {
  static const std::vector<std::vector<uint8_t>> forms = {
      {0x90},
      {0x66, 0x90},
      {0xf3, 0x90},  // pause
      {0x0f, 0x1f, 0x00},
      {0x0f, 0x1f, 0x40, 0x00},
      {0x0f, 0x1f, 0x44, 0x00, 0x00},
      {0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
      {0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00},
      {0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
      {0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
      {0x66, 0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
      {0x66, 0x0f, 0x1f, 0xc0},                    // nop ax (register form)
      {0x0f, 0x1f, 0xc7},                          // nop edi
      {0x8d, 0x76, 0x00},                          // lea esi, [esi+0]: a classic padding idiom
      {0x8d, 0xb4, 0x26, 0x00, 0x00, 0x00, 0x00},  // lea esi, [esi+0] (disp32, SIB)
      {0x87, 0xdb},                                // xchg ebx, ebx
  };
  return forms;
}

void edge_cases(Rng& rng, std::vector<TestCase>& out) {
  for (const MiscOp& op : ops()) {
    for (int v = 0; v < 6; ++v) {
      CaseBuilder b(fmt::format("misc.edge.{}.{}", op.name, v), rng, 512);
      b.set_flags(v % 2 ? kComparedFlags : 0);
      if (v >= 2) b.set_flags(rng.u32());
      op.emit(b);
      out.push_back(b.finish());
    }
  }
  for (size_t i = 0; i < nop_forms().size(); ++i) {
    CaseBuilder b(fmt::format("misc.edge.nop{}", i), rng);
    b.a.embed(nop_forms()[i].data(), nop_forms()[i].size());
    out.push_back(b.finish());
  }
  for (uint32_t v :
       {0u, 0x7fu, 0x80u, 0xffu, 0x7fffu, 0x8000u, 0xffffu, 0x7fffffffu, 0x80000000u}) {
    for (const char* name : {"cbw", "cwde", "cwd", "cdq"}) {
      CaseBuilder b(fmt::format("misc.edge.ext.{}.{:x}", name, v), rng);
      b.set(kEax, v);
      for (const MiscOp& op : ops()) {
        if (std::string(op.name) == name) op.emit(b);
      }
      out.push_back(b.finish());
    }
  }
  for (uint32_t al :
       {0x00u, 0x09u, 0x0au, 0x0fu, 0x10u, 0x99u, 0x9au, 0x9fu, 0xa0u, 0xf9u, 0xfau, 0xffu}) {
    for (uint32_t fl : {0u, kAF, kCF, kAF | kCF}) {
      for (bool add : {true, false}) {
        CaseBuilder b(fmt::format("misc.edge.{}.{:02x}.f{:x}", add ? "daa" : "das", al, fl), rng);
        b.set_operand(8, kEax, al);
        b.set_flags(fl, kAF | kCF);
        bcd(b, add ? 0x27 : 0x2f, kOF);
        out.push_back(b.finish());
      }
    }
  }
  for (uint32_t al : {0x00u, 0x09u, 0x0au, 0x0fu, 0xf9u, 0xfau, 0xffu}) {
    for (uint32_t ah : {0x00u, 0xffu}) {
      for (uint32_t af : {0u, kAF}) {
        for (bool add : {true, false}) {
          CaseBuilder b(
              fmt::format("misc.edge.{}.{:02x}{:02x}.f{:x}", add ? "aaa" : "aas", ah, al, af), rng);
          b.set_operand(16, kEax, ah << 8 | al);
          b.set_flags(af, kAF);
          bcd(b, add ? 0x37 : 0x3f, kOF | kSF | kZF | kPF);
          out.push_back(b.finish());
        }
      }
    }
  }
  for (uint8_t base : {10, 16, 1, 2, 255, 0}) {
    for (uint32_t ax : {0x0000u, 0x0009u, 0x000au, 0x0063u, 0x00ffu, 0x0909u, 0xffffu, 0x1234u}) {
      for (bool aam : {true, false}) {
        CaseBuilder b(fmt::format("misc.edge.{}{}.{:04x}", aam ? "aam" : "aad", base, ax), rng);
        b.set_operand(16, kEax, ax);
        aam_aad(b, aam, base);
        out.push_back(b.finish());
      }
    }
  }
}

void random_cases(Rng& rng, std::vector<TestCase>& out, int count) {
  const auto& list = ops();
  for (int i = 0; i < count; ++i) {
    CaseBuilder b(fmt::format("misc.rand.{}", i), rng, 512);
    const int n = 1 + static_cast<int>(rng.below(4));
    for (int k = 0; k < n; ++k) {
      if (rng.chance(10)) {
        const auto& nop = nop_forms()[rng.below(static_cast<uint32_t>(nop_forms().size()))];
        b.a.embed(nop.data(), nop.size());
        continue;
      }
      if (rng.chance(15)) {
        // A byte add/sub first, as decimal arithmetic does before daa/das/aaa/aas.
        b.a.emit(rng.coin() ? x86::Inst::kIdAdd : x86::Inst::kIdSub, x86::al,
                 Imm(static_cast<int8_t>(rng.u32())));
        b.flags(kArithFlags);
        b.clobber(kEax);
      }
      const MiscOp* op = &list[rng.below(static_cast<uint32_t>(list.size()))];
      while (op->reads & b.undefined_flags())
        op = &list[rng.below(static_cast<uint32_t>(list.size()))];
      op->emit(b);
    }
    out.push_back(b.finish());
  }
}

}  // namespace

std::vector<TestCase> gen_misc() {
  Rng rng(0x315cu);
  std::vector<TestCase> out;
  edge_cases(rng, out);
  random_cases(rng, out, 500);
  return out;
}

}  // namespace difftest
