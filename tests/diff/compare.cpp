#include "compare.h"

#include <fmt/format.h>

#include <cstring>
#include <iterator>

#include "disasm.h"

namespace difftest {
namespace {

constexpr const char* kGprNames[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};

struct FlagName {
  uint32_t bit;
  const char* name;
};
constexpr FlagName kFlagNames[] = {{kCF, "CF"}, {kPF, "PF"}, {kAF, "AF"}, {kZF, "ZF"},
                                   {kSF, "SF"}, {kDF, "DF"}, {kOF, "OF"}};
constexpr size_t kMaxByteLines = 16;

std::string flag_list(uint32_t flags) {
  std::string s;
  for (const FlagName& f : kFlagNames) {
    if (flags & f.bit) s += s.empty() ? f.name : std::string(" ") + f.name;
  }
  return s.empty() ? "-" : s;
}

bool has_error_code(int vector) {
  return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17;
}

void compare_bytes(const char* area, uint32_t base, const std::vector<uint8_t>& native,
                   const std::vector<uint8_t>& translated, std::vector<std::string>& out) {
  if (native.size() != translated.size()) {
    out.push_back(fmt::format("{}: captured sizes differ", area));
    return;
  }
  size_t differing = 0;
  for (size_t i = 0; i < native.size(); ++i) {
    if (native[i] == translated[i]) continue;
    if (differing++ < kMaxByteLines) {
      out.push_back(fmt::format("{} byte [{:#010x}]: native {:#04x} translated {:#04x}", area,
                                base + i, native[i], translated[i]));
    }
  }
  if (differing > kMaxByteLines) {
    out.push_back(fmt::format("{}: {} more differing bytes", area, differing - kMaxByteLines));
  }
}

}  // namespace

RunRecord capture(const Outcome& outcome) {
  RunRecord r{outcome, {}, {}};
  const uint8_t* data = arena_ptr(kDataBase);
  const uint8_t* stack = arena_ptr(kStackBase);
  r.data.assign(data, data + kDataSize);
  r.stack.assign(stack, stack + kStackSize);
  return r;
}

std::vector<std::string> differences(const TestCase& tc, const RunRecord& native,
                                     const RunRecord& translated) {
  std::vector<std::string> out;
  const Outcome& n = native.outcome;
  const Outcome& t = translated.outcome;
  if (n.vector != t.vector) {
    out.push_back(fmt::format("exception: native {} translated {}", vector_name(n.vector),
                              vector_name(t.vector)));
  } else if (n.vector >= 0) {
    if (n.fault_eip != t.fault_eip) {
      out.push_back(
          fmt::format("fault eip: native {:#010x} translated {:#010x}", n.fault_eip, t.fault_eip));
    }
    if (has_error_code(n.vector) && n.error_code != t.error_code) {
      out.push_back(
          fmt::format("error code: native {:#x} translated {:#x}", n.error_code, t.error_code));
    }
  }
  for (int i = 0; i < 8; ++i) {
    if (n.state.gpr[i] != t.state.gpr[i]) {
      out.push_back(fmt::format("{}: native {:#010x} translated {:#010x}", kGprNames[i],
                                n.state.gpr[i], t.state.gpr[i]));
    }
  }
  const uint32_t mask = kComparedFlags & ~tc.undefined_flags;
  const uint32_t flag_diff = (n.state.eflags ^ t.state.eflags) & mask;
  for (const FlagName& f : kFlagNames) {
    if (flag_diff & f.bit) {
      out.push_back(fmt::format("eflags.{}: native {} translated {}", f.name,
                                (n.state.eflags & f.bit) ? 1 : 0,
                                (t.state.eflags & f.bit) ? 1 : 0));
    }
  }
  compare_bytes("data", kDataBase, native.data, translated.data, out);
  compare_bytes("stack", kStackBase, native.stack, translated.stack, out);
  return out;
}

std::string format_state(const CpuState& s) {
  std::string out;
  for (int i = 0; i < 8; ++i)
    out += fmt::format("{}={:08x}{}", kGprNames[i], s.gpr[i], i == 3 ? "\n  " : " ");
  out += fmt::format("eflags={:08x} [{}]", s.eflags, flag_list(s.eflags & kComparedFlags));
  return out;
}

std::string vector_name(int vector) {
  switch (vector) {
    case -1:
      return "none (reached the end)";
    case 0:
      return "0 #DE";
    case 1:
      return "1 #DB";
    case 3:
      return "3 #BP";
    case 4:
      return "4 #OF";
    case 5:
      return "5 #BR";
    case 6:
      return "6 #UD";
    case 13:
      return "13 #GP";
    case 14:
      return "14 #PF";
    case 17:
      return "17 #AC";
    default:
      return std::to_string(vector);
  }
}

std::string describe(const TestCase& tc) {
  std::string out = fmt::format("case {}\ncode:\n{}initial state:\n  {}\n", tc.name,
                                disassemble32(tc.code, kCodeBase), format_state(tc.in));
  out += fmt::format("data: {} bytes at {:#010x}; undefined flags: {}\n", tc.data.size(), kDataBase,
                     flag_list(tc.undefined_flags));
  return out;
}

}  // namespace difftest
