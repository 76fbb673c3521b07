// branch: jcc on all conditions in short and near forms, both directions and outcomes; jmp and
// call direct and indirect (register, memory, a jump table); call/ret and ret imm16;
// loop/loope/loopne/jecxz with ECX 0, 1 and n (also with the 0x67 CX forms); random programs
// of forward branches, calls and one counted loop.
#include <fmt/format.h>

#include "case_builder.h"
#include "case_classes.h"

namespace difftest {
namespace {

using namespace asmjit;

constexpr const char* kCondNames[16] = {"o", "no", "b", "ae", "e", "ne", "be", "a",
                                        "s", "ns", "p", "np", "l", "ge", "le", "g"};

InstId jcc(unsigned cc) {
  return x86::Inst::jccFromCond(static_cast<x86::CondCode>(cc));
}

// jcc with the requested encoding: rel8 or rel32.
void emit_jcc(CaseBuilder& b, unsigned cc, Label target, bool near) {
  if (near) {
    b.a.long_();
  } else {
    b.a.short_();
  }
  b.a.emit(jcc(cc), target);
}

// Taken and not-taken paths leave different marks in EAX.
void jcc_case(Rng& rng, std::vector<TestCase>& out, unsigned cc, bool near, bool backward,
              uint32_t flags, int v) {
  CaseBuilder b(fmt::format("branch.edge.j{}.{}.{}.f{:03x}.{}", kCondNames[cc],
                            near ? "near" : "short", backward ? "back" : "fwd", flags, v),
                rng);
  b.set_flags(flags, kArithFlags);
  x86::Assembler& a = b.a;
  Label taken = a.newLabel(), end = a.newLabel();
  if (backward) {
    Label over = a.newLabel();
    a.jmp(over);
    a.bind(taken);
    a.mov(x86::eax, 2);
    a.jmp(end);
    a.bind(over);
    emit_jcc(b, cc, taken, near);
  } else {
    emit_jcc(b, cc, taken, near);
  }
  a.mov(x86::eax, 1);
  a.jmp(end);
  if (!backward) {
    if (near && rng.coin()) {
      for (int i = 0; i < 130; ++i) a.nop();  // a distance only rel32 reaches
    }
    a.bind(taken);
    a.mov(x86::eax, 2);
  }
  a.bind(end);
  b.clobber(kEax);
  out.push_back(b.finish());
}

void jcc_edges(Rng& rng, std::vector<TestCase>& out) {
  for (unsigned cc = 0; cc < 16; ++cc) {
    for (bool near : {false, true}) {
      for (bool backward : {false, true}) {
        for (int v = 0; v < 4; ++v) {
          // Flag sets cycling through CF/PF/ZF/SF/OF combinations reach both outcomes.
          const uint32_t combo = (v * 11 + cc * 5 + (near ? 3 : 0) + (backward ? 17 : 0)) % 32;
          uint32_t f = 0;
          const uint32_t bits[5] = {kCF, kPF, kZF, kSF, kOF};
          for (int k = 0; k < 5; ++k) f |= (combo >> k) & 1 ? bits[k] : 0;
          jcc_case(rng, out, cc, near, backward, f, v);
        }
      }
    }
  }
}

void call_ret_edges(Rng& rng, std::vector<TestCase>& out) {
  {
    CaseBuilder b("branch.edge.call_ret", rng);
    x86::Assembler& a = b.a;
    Label f = a.newLabel(), end = a.newLabel();
    a.call(f);
    a.add(x86::eax, 1);
    a.jmp(end);
    a.bind(f);
    a.mov(x86::ebx, x86::dword_ptr(x86::esp));  // the return address
    a.ret();
    a.bind(end);
    b.flags(kArithFlags);
    out.push_back(b.finish());
  }
  for (uint32_t n : {0u, 4u, 8u, 0x100u}) {
    CaseBuilder b(fmt::format("branch.edge.ret_imm{}", n), rng);
    x86::Assembler& a = b.a;
    Label f = a.newLabel(), end = a.newLabel();
    a.push(Imm(0x1111));
    a.push(Imm(0x2222));
    a.call(f);
    a.jmp(end);
    a.bind(f);
    a.mov(x86::ecx, x86::dword_ptr(x86::esp, 4));
    a.ret(Imm(n));
    a.bind(end);
    out.push_back(b.finish());
  }
  {
    CaseBuilder b("branch.edge.call_pop", rng);
    Label next = b.a.newLabel();
    b.a.call(next);
    b.a.bind(next);
    b.a.pop(x86::esi);
    out.push_back(b.finish());
  }
  {
    CaseBuilder b("branch.edge.push_ret", rng);
    Label target = b.a.newLabel();
    b.reg_label(kEdx, target);
    b.a.push(x86::edx);
    b.a.ret();
    b.a.int3();  // not reached
    b.a.bind(target);
    b.a.mov(x86::edi, 9);
    out.push_back(b.finish());
  }
  {
    CaseBuilder b("branch.edge.nested_calls", rng);
    x86::Assembler& a = b.a;
    Label f = a.newLabel(), g = a.newLabel(), end = a.newLabel();
    a.call(f);
    a.jmp(end);
    a.bind(f);
    a.inc(x86::eax);
    a.call(g);
    a.inc(x86::eax);
    a.ret();
    a.bind(g);
    a.shl(x86::eax, 1);
    a.ret();
    a.bind(end);
    b.flags(kArithFlags);  // the last flag writer is an inc
    out.push_back(b.finish());
  }
  for (bool near : {false, true}) {
    for (bool backward : {false, true}) {
      CaseBuilder b(
          fmt::format("branch.edge.jmp.{}.{}", near ? "near" : "short", backward ? "back" : "fwd"),
          rng);
      x86::Assembler& a = b.a;
      Label target = a.newLabel(), end = a.newLabel();
      if (backward) {
        Label over = a.newLabel();
        a.jmp(over);
        a.bind(target);
        a.mov(x86::ebx, 3);
        a.jmp(end);
        a.bind(over);
      }
      near ? a.long_().jmp(target) : a.short_().jmp(target);
      a.mov(x86::ebx, 4);
      if (!backward) a.bind(target);
      a.bind(end);
      out.push_back(b.finish());
    }
  }
}

// jmp/call through a register, through memory, and a jump table indexed by EAX.
void indirect_edges(Rng& rng, std::vector<TestCase>& out) {
  for (unsigned r = 0; r < 8; ++r) {
    if (r == kEsp) continue;
    for (bool call : {false, true}) {
      CaseBuilder b(fmt::format("branch.edge.{}_reg{}", call ? "call" : "jmp", r), rng);
      x86::Assembler& a = b.a;
      Label target = a.newLabel(), end = a.newLabel();
      b.reg_label(r, target);
      call ? a.call(x86::gpd(r)) : a.jmp(x86::gpd(r));
      a.jmp(end);
      a.int3();
      a.bind(target);
      a.mov(x86::gpd(r == kEax ? kEbx : kEax), 5);
      if (call) a.ret();
      a.bind(end);
      out.push_back(b.finish());
    }
  }
  for (int v = 0; v < 6; ++v) {
    const bool call = v % 2;
    CaseBuilder b(fmt::format("branch.edge.{}_mem.{}", call ? "call" : "jmp", v), rng);
    x86::Assembler& a = b.a;
    Label target = a.newLabel(), end = a.newLabel();
    const uint32_t slot = b.data_address(4, 4);
    b.data_label(slot, target);
    const x86::Mem m = b.mem(slot, 4);
    call ? a.call(m) : a.jmp(m);
    a.jmp(end);
    a.bind(target);
    a.mov(x86::ebp, 6);
    if (call) a.ret();
    a.bind(end);
    out.push_back(b.finish());
  }
  for (uint32_t index = 0; index < 4; ++index) {
    for (bool call : {false, true}) {
      CaseBuilder b(fmt::format("branch.edge.table{}.{}", call ? "_call" : "", index), rng);
      x86::Assembler& a = b.a;
      Label end = a.newLabel();
      Label cases[4] = {a.newLabel(), a.newLabel(), a.newLabel(), a.newLabel()};
      const uint32_t table = kDataBase + 0x40;
      for (uint32_t k = 0; k < 4; ++k) b.data_label(table + 4 * k, cases[k]);
      b.set(kEax, index);
      const x86::Mem entry = x86::dword_ptr(uint64_t{table}, x86::eax, 2);
      call ? a.call(entry) : a.jmp(entry);
      a.jmp(end);
      for (uint32_t k = 0; k < 4; ++k) {
        a.bind(cases[k]);
        a.mov(x86::ebx, 10 + k);
        call ? a.ret() : a.jmp(end);
      }
      a.bind(end);
      out.push_back(b.finish());
    }
  }
}

// The loop instructions. Every loop body also has an exit of its own, so that ECX = 0 (which
// makes loop run 2^32 times) still terminates quickly.
void loop_case(CaseBuilder& b, int kind, uint32_t ecx, uint32_t guard, bool cx_form) {
  x86::Assembler& a = b.a;
  b.set(kEcx, ecx);
  Label top = a.newLabel(), out = a.newLabel();
  a.bind(top);
  a.inc(x86::eax);
  switch (kind) {
    case 0:  // loop, with EBX counting down to an exit
      b.set(kEbx, guard);
      a.dec(x86::ebx);
      a.jz(out);
      break;
    case 1:  // loopne: runs until ESI reaches EDI (guard steps)
      b.set(kEdi, b.in().gpr[kEsi] + guard);
      a.add(x86::esi, 1);
      a.cmp(x86::esi, x86::edi);
      break;
    default:  // loope: runs while ESI & EDX == 0, EDX a power of two near guard
      b.set(kEsi, 0);
      b.set(kEdx, 1u << (31 - __builtin_clz(guard | 1)));
      a.inc(x86::esi);
      a.test(x86::esi, x86::edx);
      break;
  }
  if (cx_form) b.raw({0x67});
  switch (kind) {
    case 0:
      a.loop(top);
      break;
    case 1:
      a.loopne(top);
      break;
    default:
      a.loope(top);
      break;
  }
  a.bind(out);
  b.flags(kArithFlags, kind == 2 ? kAF : 0);
}

void loop_edges(Rng& rng, std::vector<TestCase>& out) {
  constexpr const char* kNames[] = {"loop", "loopne", "loope"};
  for (int kind = 0; kind < 3; ++kind) {
    for (uint32_t ecx : {0u, 1u, 2u, 5u, 0x10000u}) {
      for (uint32_t guard : {1u, 3u, 8u}) {
        for (bool cx_form : {false, true}) {
          CaseBuilder b(fmt::format("branch.edge.{}.ecx{:x}.g{}{}", kNames[kind], ecx, guard,
                                    cx_form ? ".cx" : ""),
                        rng);
          loop_case(b, kind, ecx, guard, cx_form);
          out.push_back(b.finish());
        }
      }
    }
  }
  for (uint32_t ecx : {0u, 1u, 0x10000u, 0xffffffffu}) {
    for (bool cx_form : {false, true}) {
      CaseBuilder b(fmt::format("branch.edge.jecxz.{:x}{}", ecx, cx_form ? ".cx" : ""), rng);
      x86::Assembler& a = b.a;
      b.set(kEcx, ecx);
      Label zero = a.newLabel(), end = a.newLabel();
      if (cx_form) b.raw({0x67});
      a.jecxz(zero);
      a.mov(x86::eax, 1);
      a.jmp(end);
      a.bind(zero);
      a.mov(x86::eax, 2);
      a.bind(end);
      out.push_back(b.finish());
    }
  }
}

// Random straight-line programs: blocks of arithmetic on work registers, ended by forward jcc
// or jmp, calls to leaf functions, at most one backward loop (counted by ECX) and an indirect
// jump through EBP.
void random_program(CaseBuilder& b) {
  Rng& rng = b.rng;
  x86::Assembler& a = b.a;
  const unsigned work[] = {kEax, kEbx, kEdx, kEsi, kEdi};
  for (unsigned r : work) b.reserve(r);
  const int nblocks = 3 + static_cast<int>(rng.below(5));
  const int nfuncs = static_cast<int>(rng.below(3));
  std::vector<Label> blocks, funcs;
  for (int i = 0; i <= nblocks; ++i) blocks.push_back(a.newLabel());
  for (int i = 0; i < nfuncs; ++i) funcs.push_back(a.newLabel());

  auto arith = [&] {
    const unsigned x = work[rng.below(5)], y = work[rng.below(5)];
    const InstId id = rng.pick({x86::Inst::kIdAdd, x86::Inst::kIdSub, x86::Inst::kIdCmp,
                                x86::Inst::kIdXor, x86::Inst::kIdAnd, x86::Inst::kIdAdc});
    if (rng.coin()) {
      a.emit(id, x86::gpd(x), x86::gpd(y));
    } else {
      a.emit(id, x86::gpd(x),
             Imm(rng.chance(50) ? rng.srange(-3, 3) : static_cast<int32_t>(rng.value(32))));
    }
    b.flags(kArithFlags, id == x86::Inst::kIdXor || id == x86::Inst::kIdAnd ? kAF : 0);
  };

  if (nfuncs > 0) {
    a.jmp(blocks[0]);
    for (int i = 0; i < nfuncs; ++i) {
      a.bind(funcs[i]);
      for (int k = static_cast<int>(rng.below(3)); k >= 0; --k) arith();
      if (rng.coin()) {
        a.ret();
      } else {
        a.ret(Imm(4));  // the caller pushed an argument
      }
    }
  }
  // Calls always push an argument; functions with a plain ret leave it on the stack.
  const int loop_from = rng.chance(40) ? static_cast<int>(rng.below(nblocks)) : -1;
  const int loop_at =
      loop_from >= 0 ? loop_from + static_cast<int>(rng.below(nblocks - loop_from)) : -1;
  b.set(kEcx, 1 + rng.below(6));
  bool indirect_used = false;
  for (int i = 0; i < nblocks; ++i) {
    a.bind(blocks[i]);
    for (int k = 1 + static_cast<int>(rng.below(3)); k > 0; --k) arith();
    if (nfuncs > 0 && rng.chance(30)) {
      a.push(x86::gpd(work[rng.below(5)]));
      a.call(funcs[rng.below(nfuncs)]);
    }
    const int target = i + 1 + static_cast<int>(rng.below(nblocks - i));
    if (i == loop_at) {
      if (rng.coin()) {
        a.loop(blocks[loop_from]);
      } else {
        a.dec(x86::ecx);
        b.flags(kArithFlags & ~kCF);
        a.jnz(blocks[loop_from]);
      }
      continue;
    }
    switch (rng.below(5)) {
      case 0:
      case 1: {
        const unsigned cc = rng.below(16);
        emit_jcc(b, cc, blocks[target], rng.chance(30));
        break;
      }
      case 2:
        a.jmp(blocks[target]);
        break;
      case 3:
        if (!indirect_used && loop_at < 0) {
          indirect_used = true;
          b.reg_label(kEbp, blocks[target]);
          a.jmp(x86::ebp);
        }
        break;
      default:
        break;  // fall through
    }
  }
  a.bind(blocks[nblocks]);
}

void random_cases(Rng& rng, std::vector<TestCase>& out, int count) {
  for (int i = 0; i < count; ++i) {
    CaseBuilder b(fmt::format("branch.rand.{}", i), rng);
    random_program(b);
    out.push_back(b.finish());
  }
}

}  // namespace

std::vector<TestCase> gen_branch() {
  Rng rng(0xb7a4u);
  std::vector<TestCase> out;
  jcc_edges(rng, out);
  call_ret_edges(rng, out);
  indirect_edges(rng, out);
  loop_edges(rng, out);
  random_cases(rng, out, 500);
  return out;
}

}  // namespace difftest
