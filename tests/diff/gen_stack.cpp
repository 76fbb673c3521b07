// stack: push/pop of registers (push esp, pop esp), immediates and memory (ESP-relative
// addresses included: pop [esp+x] addresses after the increment), 16-bit forms, pusha/popa,
// pushf/popf of arithmetic flags and DF, enter with nesting levels 0, 1, 2, 3, and leave.
#include <fmt/format.h>

#include "case_builder.h"
#include "case_classes.h"

namespace difftest {
namespace {

using namespace asmjit;

// A popf value: only arithmetic flags and DF (TF would single-step, AC would check alignment).
uint32_t flags_value(Rng& rng) {
  return (rng.u32() & kComparedFlags) | kFixedFlags;
}

// Tracks what the code emitted so far did to the stack registers.
struct StackState {
  bool ebp_in_stack = true;  // EBP points into the stack area (enter with levels, leave)
  bool esp_lost = false;     // after pop esp: no more stack operations
};

x86::Mem esp_relative(Rng& rng, uint32_t size) {
  return x86::ptr(x86::esp, 4 * rng.srange(-8, 8), size);
}

x86::Mem data_mem(CaseBuilder& b, uint32_t size) {
  return b.mem(b.data_address(size), size);
}

void controlled_popf(CaseBuilder& b, bool word) {
  const uint32_t v = flags_value(b.rng);
  if (word) {
    b.raw({0x66, 0x68, static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8)});  // push imm16
    b.raw({0x66, 0x9d});                                                         // popfw
  } else {
    b.a.push(Imm(static_cast<int32_t>(v)));
    b.a.popfd();
  }
  b.flags(kArithFlags);
}

void emit_enter(CaseBuilder& b, uint32_t size, uint32_t level, bool word) {
  if (word) {
    b.raw({0x66, 0xc8, static_cast<uint8_t>(size), static_cast<uint8_t>(size >> 8),
           static_cast<uint8_t>(level)});
  } else {
    b.a.enter(Imm(size), Imm(level));
  }
  b.clobber(kEbp);
}

// One random stack operation that suits the state.
void random_op(CaseBuilder& b, StackState& st) {
  Rng& rng = b.rng;
  switch (rng.below(14)) {
    case 0: {
      const unsigned r = rng.below(8);
      rng.chance(85) ? b.a.push(x86::gpd(r)) : b.a.push(x86::gpw(r));
      break;
    }
    case 1: {
      unsigned r;
      do {
        r = rng.below(8);
      } while (r == kEsp);
      rng.chance(85) ? b.a.pop(x86::gpd(r)) : b.a.pop(x86::gpw(r));
      b.clobber(r);
      if (r == kEbp) st.ebp_in_stack = false;
      break;
    }
    case 2:
      b.a.push(Imm(rng.chance(50) ? rng.srange(-128, 127) : static_cast<int32_t>(rng.u32())));
      break;
    case 3:
      b.a.push(rng.chance(50) ? data_mem(b, 4) : esp_relative(rng, 4));
      break;
    case 4:
      b.a.pop(rng.chance(50) ? data_mem(b, 4) : esp_relative(rng, 4));
      break;
    case 5:
      b.a.push(rng.chance(50) ? data_mem(b, 2) : esp_relative(rng, 2));
      break;
    case 6:
      b.a.pop(rng.chance(50) ? data_mem(b, 2) : esp_relative(rng, 2));
      break;
    case 7:
      b.a.pushad();
      break;
    case 8:
      b.a.popad();
      for (unsigned r = 0; r < 8; ++r) {
        if (r != kEsp) b.clobber(r);
      }
      st.ebp_in_stack = false;
      break;
    case 9:
      if (rng.chance(80)) {
        b.a.pushfd();
      } else {
        b.raw({0x66, 0x9c});  // pushfw
      }
      break;
    case 10:
      controlled_popf(b, rng.chance(20));
      break;
    case 11:
      if (st.ebp_in_stack) {
        emit_enter(b, 4 * rng.below(64), rng.chance(70) ? rng.pick({0u, 1u, 2u, 3u}) : rng.below(9),
                   false);
      } else {
        emit_enter(b, 4 * rng.below(64), rng.pick({0u, 1u}), false);
        st.ebp_in_stack = true;
      }
      break;
    case 12:
      if (st.ebp_in_stack) {
        b.a.leave();
        b.clobber(kEbp);
        // The popped EBP is whatever the stack held there.
        st.ebp_in_stack = false;
      } else {
        b.a.push(x86::esp);
      }
      break;
    default:
      b.a.push(x86::esp);
      break;
  }
}

void random_cases(Rng& rng, std::vector<TestCase>& out, int count) {
  for (int i = 0; i < count; ++i) {
    CaseBuilder b(fmt::format("stack.rand.{}", i), rng);
    // EBP in the stack area above ESP, so enter's frame copies and leave read stack memory.
    b.set(kEbp, b.in().gpr[kEsp] + 4 * rng.range(4, 128));
    StackState st;
    const int n = 2 + static_cast<int>(rng.below(6));
    for (int k = 0; k < n; ++k) random_op(b, st);
    if (rng.chance(10)) {
      b.a.push(Imm(static_cast<int32_t>(kStackBase + kStackSize / 2 + 4 * rng.below(64))));
      b.a.pop(x86::esp);
      b.a.push(x86::eax);
    }
    out.push_back(b.finish());
  }
}

void edge_cases(Rng& rng, std::vector<TestCase>& out) {
  auto start = [&](const std::string& name) {
    auto b = std::make_unique<CaseBuilder>("stack.edge." + name, rng);
    b->set(kEbp, b->in().gpr[kEsp] + 0x40);
    return b;
  };
  for (unsigned r = 0; r < 8; ++r) {
    auto p = start(fmt::format("push_r{}", r));
    p->a.push(x86::gpd(r));
    out.push_back(p->finish());
    auto w = start(fmt::format("push_r16_{}", r));
    w->a.push(x86::gpw(r));
    out.push_back(w->finish());
    auto q = start(fmt::format("pop_r{}", r));
    q->a.push(
        Imm(static_cast<int32_t>(kStackBase + 0x7000 + 4 * r)));  // a stack address for pop esp
    q->a.pop(x86::gpd(r));
    q->a.push(Imm(0x5a5a5a5a));
    out.push_back(q->finish());
    auto q16 = start(fmt::format("pop_r16_{}", r));
    q16->raw({0x66, 0x68, 0x34, 0x12});  // push word 0x1234
    q16->a.pop(x86::gpw(r));
    out.push_back(q16->finish());
  }
  for (int32_t imm : {0, 1, -1, 127, -128, 128, 0x7fffffff, static_cast<int32_t>(0x80000000)}) {
    auto b = start(fmt::format("push_imm.{:x}", static_cast<uint32_t>(imm)));
    b->a.push(Imm(imm));
    out.push_back(b->finish());
  }
  {
    const std::vector<std::vector<uint8_t>> raws = {
        {0x66, 0x6a, 0xff},        // push word -1 (imm8)
        {0x66, 0x68, 0x00, 0x80},  // push word 0x8000
        {0x6a, 0x80},              // push dword -128
        {0x68, 0x7f, 0, 0, 0},     // push dword 0x7f, long form
    };
    for (size_t i = 0; i < raws.size(); ++i) {
      auto b = start(fmt::format("push_raw{}", i));
      b->a.embed(raws[i].data(), raws[i].size());
      out.push_back(b->finish());
    }
  }
  // ESP-relative memory: push [esp+x] reads at the old ESP, pop [esp+x] writes at the new one.
  for (int32_t disp : {-8, -4, 0, 4, 8, 12}) {
    for (bool word : {false, true}) {
      const uint32_t size = word ? 2 : 4;
      auto p = start(fmt::format("push_esp_mem{}.{}", disp, size));
      p->a.push(Imm(0x11111111));
      p->a.push(Imm(0x22222222));
      p->a.push(x86::ptr(x86::esp, disp, size));
      out.push_back(p->finish());
      auto q = start(fmt::format("pop_esp_mem{}.{}", disp, size));
      q->a.push(Imm(0x33333333));
      q->a.push(Imm(0x44444444));
      q->a.pop(x86::ptr(x86::esp, disp, size));
      out.push_back(q->finish());
    }
  }
  for (int v = 0; v < 4; ++v) {
    auto p = start(fmt::format("push_mem.{}", v));
    p->a.push(data_mem(*p, 4));
    out.push_back(p->finish());
    auto q = start(fmt::format("pop_mem.{}", v));
    q->a.push(Imm(static_cast<int32_t>(rng.u32())));
    q->a.pop(data_mem(*q, 4));
    out.push_back(q->finish());
  }
  {
    auto b = start("push_esp");
    b->a.push(x86::esp);
    out.push_back(b->finish());
    auto w = start("push_sp");
    w->a.push(x86::sp);
    out.push_back(w->finish());
    auto e = start("pop_esp_self");
    e->a.push(x86::esp);
    e->a.pop(x86::esp);
    e->a.push(Imm(7));
    out.push_back(e->finish());
  }
  {
    auto b = start("pushad");
    b->a.pushad();
    out.push_back(b->finish());
    auto c = start("pushad_popad");
    c->a.pushad();
    c->a.mov(x86::dword_ptr(x86::esp, 12), Imm(0x12345678));  // the ESP slot is skipped
    c->a.mov(x86::dword_ptr(x86::esp, 0), Imm(0x0bad0bad));   // becomes EDI
    c->a.popad();
    out.push_back(c->finish());
    auto w = start("pushaw_popaw");
    w->raw({0x66, 0x60});
    w->a.mov(x86::word_ptr(x86::esp, 14), Imm(0x4321));  // AX
    w->raw({0x66, 0x61});
    out.push_back(w->finish());
  }
  for (int v = 0; v < 8; ++v) {
    auto b = start(fmt::format("pushf.{}", v));
    b->set_flags(flags_value(rng));
    if (v % 2) {
      b->raw({0x66, 0x9c});  // pushfw
    } else {
      b->a.pushfd();
    }
    out.push_back(b->finish());
  }
  for (uint32_t df : {0u, kDF}) {
    for (uint32_t arith : {0u, kArithFlags, kCF | kZF, kOF | kSF | kPF | kAF}) {
      for (bool word : {false, true}) {
        auto b = start(fmt::format("popf.{:x}.{}", df | arith, word ? 16 : 32));
        const uint32_t v = df | arith | kFixedFlags;
        if (word) {
          b->raw({0x66, 0x68, static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8), 0x66, 0x9d});
        } else {
          b->a.push(Imm(static_cast<int32_t>(v)));
          b->a.popfd();
        }
        b->flags(kArithFlags);
        out.push_back(b->finish());
      }
    }
  }
  for (uint32_t level : {0u, 1u, 2u, 3u, 31u}) {
    for (uint32_t size : {0u, 8u, 0x100u}) {
      auto b = start(fmt::format("enter.{}.{}", size, level));
      // Frame pointers for the nested copy: [ebp-4], [ebp-8] ...
      b->a.push(Imm(0xaaaa0001));
      b->a.push(Imm(0xaaaa0002));
      b->a.push(Imm(0xaaaa0003));
      emit_enter(*b, size, level, false);
      out.push_back(b->finish());
      auto l = start(fmt::format("enter_leave.{}.{}", size, level));
      emit_enter(*l, size, level, false);
      l->a.push(x86::eax);
      l->a.leave();
      out.push_back(l->finish());
    }
  }
  for (uint32_t level : {0u, 1u, 2u}) {
    auto b = start(fmt::format("enter16.{}", level));
    emit_enter(*b, 6, level, true);
    out.push_back(b->finish());
  }
  {
    auto b = start("leave");
    b->a.leave();
    out.push_back(b->finish());
    auto w = start("leave16");
    w->raw({0x66, 0xc9});
    out.push_back(w->finish());
  }
}

}  // namespace

std::vector<TestCase> gen_stack() {
  Rng rng(0x57acu);
  std::vector<TestCase> out;
  edge_cases(rng, out);
  random_cases(rng, out, 700);
  return out;
}

}  // namespace difftest
