// string: movs/stos/lods/cmps/scas in byte, word and dword sizes, bare and with rep, repe and
// repne, ECX 0 and small counts, DF 0 and 1, overlapping moves, segment overrides.
#include <fmt/format.h>

#include <cstring>

#include "case_builder.h"
#include "case_classes.h"

namespace difftest {
namespace {

using namespace asmjit;

enum class Str { kMovs, kStos, kLods, kCmps, kScas };
enum class Rep { kNone, kRep, kRepne };  // kRep is F3: rep, or repe for cmps/scas

constexpr const char* kStrNames[] = {"movs", "stos", "lods", "cmps", "scas"};
constexpr uint32_t kArea = 1024;  // initialised data bytes; all strings live inside

bool compares(Str op) {
  return op == Str::kCmps || op == Str::kScas;
}
bool uses_esi(Str op) {
  return op == Str::kMovs || op == Str::kLods || op == Str::kCmps;
}
bool uses_edi(Str op) {
  return op != Str::kLods;
}

char size_suffix(unsigned size) {
  return size == 1 ? 'b' : size == 2 ? 'w' : 'd';
}

void emit(CaseBuilder& b, Str op, unsigned size, Rep rep, uint8_t segment_prefix) {
  if (segment_prefix) b.raw({segment_prefix});
  if (rep == Rep::kRep) b.a.rep();
  if (rep == Rep::kRepne) b.a.repne();
  x86::Assembler& a = b.a;
  switch (op) {
    case Str::kMovs:
      size == 1 ? a.movsb() : size == 2 ? a.movsw() : a.movsd();
      break;
    case Str::kStos:
      size == 1 ? a.stosb() : size == 2 ? a.stosw() : a.stosd();
      break;
    case Str::kLods:
      size == 1 ? a.lodsb() : size == 2 ? a.lodsw() : a.lodsd();
      break;
    case Str::kCmps:
      size == 1 ? a.cmpsb() : size == 2 ? a.cmpsw() : a.cmpsd();
      break;
    case Str::kScas:
      size == 1 ? a.scasb() : size == 2 ? a.scasw() : a.scasd();
      break;
  }
}

struct StringSpec {
  Str op;
  unsigned size;
  Rep rep;
  bool df;
  uint32_t count;        // ECX when prefixed
  int32_t stop_at = -1;  // cmps/scas with a prefix: the element where the condition ends it
  int32_t overlap = 0;   // movs: EDI = ESI + overlap elements (0: unrelated)
  uint8_t segment_prefix = 0;
};

// The address of element i of a string starting at `start`, in the direction DF says.
uint32_t element(uint32_t start, uint32_t i, unsigned size, bool df) {
  return df ? start - i * size : start + i * size;
}

TestCase build(Rng& rng, const std::string& name, const StringSpec& s) {
  CaseBuilder b(name, rng, kArea);
  b.set_flags(s.df ? kDF : 0, kDF);
  const uint32_t n = s.rep == Rep::kNone ? 1 : s.count;
  const uint32_t span = (n + 2) * s.size;
  auto start = [&] { return kDataBase + span + rng.below(kArea - 2 * span); };
  const uint32_t src = start();
  uint32_t dst = start();
  if (s.overlap != 0) dst = src + static_cast<uint32_t>(s.overlap) * s.size;
  if (uses_esi(s.op)) b.set(kEsi, src);
  if (uses_edi(s.op)) b.set(kEdi, dst);
  if (s.rep != Rep::kNone) b.set(kEcx, s.count);
  const uint32_t mask = width_mask(8 * s.size);
  const uint32_t accumulator = rng.value(8 * s.size);
  b.set_operand(8 * s.size, kEax, accumulator);

  if (compares(s.op)) {
    // Elements before stop_at satisfy the repeat condition, the one at stop_at does not.
    const bool repeat_while_equal = s.rep != Rep::kRepne;
    const uint32_t limit = s.stop_at >= 0 ? static_cast<uint32_t>(s.stop_at) + 1 : n;
    for (uint32_t i = 0; i < limit && i < n; ++i) {
      const bool equal = s.rep == Rep::kNone
                             ? rng.coin()
                             : (static_cast<int32_t>(i) == s.stop_at) != repeat_while_equal;
      const uint32_t d = element(dst, i, s.size, s.df);
      uint32_t want =
          s.op == Str::kScas ? accumulator : b.read_data(element(src, i, s.size, s.df), s.size);
      if (!equal) want ^= 1u << rng.below(8 * s.size);
      want &= mask;
      b.write_data(d, &want, s.size);
    }
  }
  emit(b, s.op, s.size, s.rep, s.segment_prefix);
  if (compares(s.op) && n > 0) b.flags(kArithFlags);
  return b.finish();
}

std::string spec_name(const char* kind, int i, const StringSpec& s) {
  const char* rep = s.rep == Rep::kNone ? "" : s.rep == Rep::kRep ? "rep_" : "repne_";
  return fmt::format("string.{}.{}{}{}.df{}.n{}.{}", kind, rep, kStrNames[static_cast<int>(s.op)],
                     size_suffix(s.size), s.df ? 1 : 0, s.count, i);
}

std::vector<Rep> reps_for(Str op) {
  if (compares(op)) return {Rep::kNone, Rep::kRep, Rep::kRepne};
  return {Rep::kNone, Rep::kRep};
}

void edge_cases(Rng& rng, std::vector<TestCase>& out) {
  int i = 0;
  for (Str op : {Str::kMovs, Str::kStos, Str::kLods, Str::kCmps, Str::kScas}) {
    for (unsigned size : {1u, 2u, 4u}) {
      for (Rep rep : reps_for(op)) {
        for (bool df : {false, true}) {
          for (uint32_t count : {0u, 1u, 2u, 7u}) {
            if (rep == Rep::kNone && count > 0) continue;
            StringSpec s{op, size, rep, df, count};
            if (compares(op) && rep != Rep::kNone && count > 1)
              s.stop_at = static_cast<int32_t>(count / 2);
            out.push_back(build(rng, spec_name("edge", i++, s), s));
          }
        }
      }
    }
  }
  // Overlapping moves copy element by element (a pattern repeats), not like memmove.
  for (int32_t overlap : {1, -1, 2, -3}) {
    for (bool df : {false, true}) {
      for (unsigned size : {1u, 4u}) {
        StringSpec s{Str::kMovs, size, Rep::kRep, df, 9, -1, overlap};
        out.push_back(build(rng, spec_name("overlap", i++, s), s));
      }
    }
  }
  // Segment overrides on the source (flat segments: same memory).
  for (uint8_t prefix : {0x26, 0x2e, 0x36, 0x3e}) {
    for (Str op : {Str::kMovs, Str::kLods, Str::kCmps}) {
      StringSpec s{op, 2, Rep::kRep, false, 3};
      s.segment_prefix = prefix;
      out.push_back(build(rng, spec_name(fmt::format("seg{:02x}", prefix).c_str(), i++, s), s));
    }
  }
  // DF changed by the code itself around the string instruction.
  for (bool set : {true, false}) {
    CaseBuilder b(fmt::format("string.edge.{}_rep_stosb", set ? "std" : "cld"), rng, kArea);
    b.set_flags(set ? 0 : kDF, kDF);
    b.set(kEdi, kDataBase + kArea / 2);
    b.set(kEcx, 5);
    set ? b.a.std() : b.a.cld();
    b.a.rep().stosb();
    set ? b.a.cld() : b.a.std();
    b.set(kEsi, kDataBase + 16);
    b.a.movsb();
    out.push_back(b.finish());
  }
}

void random_cases(Rng& rng, std::vector<TestCase>& out, int count) {
  for (int i = 0; i < count; ++i) {
    const Str op = static_cast<Str>(rng.below(5));
    StringSpec s{op, rng.pick({1u, 2u, 4u}), rng.pick(reps_for(op)), rng.coin(), 0};
    if (s.rep != Rep::kNone) {
      s.count = rng.chance(15) ? rng.pick({0u, 1u}) : rng.range(2, rng.chance(20) ? 64 : 16);
      if (compares(op) && s.count > 0 && rng.chance(70)) {
        s.stop_at = static_cast<int32_t>(rng.below(s.count));
      }
      if (op == Str::kMovs && rng.chance(15)) {
        s.overlap = rng.srange(-3, 3);
      }
    } else {
      s.count = rng.u32();  // ECX must not matter
    }
    if (uses_esi(op) && rng.chance(8)) s.segment_prefix = rng.pick<uint8_t>({0x26, 0x2e, 0x36});
    out.push_back(build(rng, spec_name("rand", i, s), s));
  }
}

}  // namespace

std::vector<TestCase> gen_string() {
  Rng rng(0x57u);
  std::vector<TestCase> out;
  edge_cases(rng, out);
  random_cases(rng, out, 700);
  return out;
}

}  // namespace difftest
