// exceptions: #DE (divide by zero, idiv overflow, aam 0), #BP (int3, int 3), #OF (into with
// OF=1; OF=0 continues), #UD (ud2, ud0, ud1, lock on a register or non-lockable operation,
// an undefined FE encoding), #BR (bound out of range; in range continues). Work before the
// faulting instruction shows in the state at the fault; work after it must not happen.
#include <fmt/format.h>

#include "case_builder.h"
#include "case_classes.h"

namespace difftest {
namespace {

using namespace asmjit;

// A register-only arithmetic instruction on anything but ESP; records its flags.
void work(CaseBuilder& b) {
  Rng& rng = b.rng;
  unsigned x, y;
  do {
    x = rng.below(8);
    y = rng.below(8);
  } while (x == kEsp || y == kEsp);
  const InstId id = rng.pick({x86::Inst::kIdAdd, x86::Inst::kIdSub, x86::Inst::kIdXor,
                              x86::Inst::kIdInc, x86::Inst::kIdNeg, x86::Inst::kIdCmp});
  if (id == x86::Inst::kIdInc || id == x86::Inst::kIdNeg) {
    b.a.emit(id, x86::gpd(x));
  } else {
    b.a.emit(id, x86::gpd(x), x86::gpd(y));
  }
  b.flags(id == x86::Inst::kIdInc ? kArithFlags & ~kCF : kArithFlags,
          id == x86::Inst::kIdXor ? kAF : 0);
  if (id != x86::Inst::kIdCmp) b.clobber(x);
}

enum class Trap {
  kDivZero,
  kIdivOverflow,
  kAam0,
  kInt3,
  kInt3Long,
  kInto,
  kUd2,
  kUd0,
  kUd1,
  kLockReg,
  kLockMov,
  kFe7,
  kBound,
  kBound16,
  kCount
};
constexpr const char* kTrapNames[] = {"div0",     "idiv_overflow", "aam0",  "int3",   "int_3",
                                      "into",     "ud2",           "ud0",   "ud1",    "lock_reg",
                                      "lock_mov", "fe7",           "bound", "bound16"};

// Emits the trap instruction. Register inputs are loaded with mov right before it (work before
// may have changed any register; mov leaves the flags alone). `in_range` picks the
// non-faulting variant of bound.
void emit_trap(CaseBuilder& b, Trap t, bool in_range) {
  Rng& rng = b.rng;
  x86::Assembler& a = b.a;
  switch (t) {
    case Trap::kDivZero: {
      const unsigned bits = rng.pick({8u, 16u, 32u});
      if (rng.coin()) {
        const uint32_t at = b.data_address(bits / 8);
        const uint32_t zero = 0;
        b.write_data(at, &zero, bits / 8);
        a.emit(rng.coin() ? x86::Inst::kIdDiv : x86::Inst::kIdIdiv,
               b.mem(at, bits / 8, 1u << kEax | 1u << kEdx));
      } else {
        a.mov(gp(bits, kEbx), 0);
        b.clobber(kEbx);
        a.emit(rng.coin() ? x86::Inst::kIdDiv : x86::Inst::kIdIdiv, gp(bits, kEbx));
      }
      break;
    }
    case Trap::kIdivOverflow: {
      const unsigned bits = rng.pick({8u, 16u, 32u});
      // The most negative dividend divided by -1.
      if (bits == 8) {
        a.mov(x86::ax, 0x8000);
      } else {
        a.mov(gp(bits, kEax), 0);
        a.mov(gp(bits, kEdx), sign_bit(bits));
      }
      a.mov(gp(bits, kEcx), width_mask(bits));
      for (unsigned r : {kEax, kEcx, kEdx}) b.clobber(r);
      a.emit(x86::Inst::kIdIdiv, gp(bits, kEcx));
      break;
    }
    case Trap::kAam0:
      b.raw({0xd4, 0x00});
      break;
    case Trap::kInt3:
      a.int3();
      break;
    case Trap::kInt3Long:
      b.raw({0xcd, 0x03});
      break;
    case Trap::kInto:
      a.into();
      break;
    case Trap::kUd2:
      a.ud2();
      break;
    case Trap::kUd0:
      b.raw({0x0f, 0xff, 0xc0});
      break;
    case Trap::kUd1:
      b.raw({0x0f, 0xb9, 0xc8});
      break;
    case Trap::kLockReg:
      b.raw({0xf0, 0x01, 0xd8});
      break;  // lock add eax, ebx
    case Trap::kLockMov: {
      a.mov(x86::ebx, b.data_address(4));
      b.clobber(kEbx);
      b.raw({0xf0, 0x8b, 0x03});  // lock mov eax, [ebx]
      break;
    }
    case Trap::kFe7:
      b.raw({0xfe, 0xf8});
      break;
    case Trap::kBound:
    case Trap::kBound16: {
      const unsigned bits = t == Trap::kBound ? 32 : 16;
      const uint32_t size = bits / 8;
      const int32_t lower = rng.srange(-1000, 1000), upper = lower + rng.srange(0, 2000);
      const uint32_t at = b.data_address(2 * size, size);
      b.write_data(at, &lower, size);
      b.write_data(at + size, &upper, size);
      int32_t index;
      if (in_range) {
        index = rng.pick({lower, upper, lower + (upper - lower) / 2});
      } else {
        index = rng.coin() ? lower - 1 - static_cast<int32_t>(rng.below(100))
                           : upper + 1 + static_cast<int32_t>(rng.below(100));
      }
      const x86::Mem m = b.mem(at, 2 * size, 1u << kEsi);
      a.mov(gp(bits, kEsi), static_cast<uint32_t>(index) & width_mask(bits));
      b.clobber(kEsi);
      a.bound(gp(bits, kEsi), m);
      break;
    }
    case Trap::kCount:
      break;
  }
}

void edge_cases(Rng& rng, std::vector<TestCase>& out) {
  for (int t = 0; t < static_cast<int>(Trap::kCount); ++t) {
    for (int v = 0; v < 8; ++v) {
      const Trap trap = static_cast<Trap>(t);
      const bool in_range = v % 2;
      CaseBuilder b(fmt::format("exc.edge.{}.{}", kTrapNames[t], v), rng);
      if (trap == Trap::kInto) b.set_flags(v % 2 ? 0 : kOF, kOF);
      if (v >= 4) work(b);  // work before: visible at the fault
      if (trap == Trap::kInto && v >= 4) {
        // into right after an add that overflows (or not)
        b.a.mov(x86::edx, 0x7fffffff);
        b.a.mov(x86::edi, v % 2 ? 0 : 1);
        b.a.add(x86::edx, x86::edi);
        b.flags(kArithFlags);
      }
      emit_trap(b, trap, in_range);
      b.a.mov(x86::eax, 0x0d0d0d0d);  // after the trap: must not run if it faults
      out.push_back(b.finish());
    }
  }
}

void random_cases(Rng& rng, std::vector<TestCase>& out, int count) {
  for (int i = 0; i < count; ++i) {
    const Trap trap = static_cast<Trap>(rng.below(static_cast<uint32_t>(Trap::kCount)));
    CaseBuilder b(fmt::format("exc.rand.{}.{}", i, kTrapNames[static_cast<int>(trap)]), rng);
    for (int k = static_cast<int>(rng.below(4)); k > 0; --k) work(b);
    emit_trap(b, trap, rng.coin());
    // If the trap fires, the work after it does not run: flags undefined before stay so.
    const uint32_t undefined_at_trap = b.undefined_flags();
    for (int k = static_cast<int>(rng.below(3)); k > 0; --k) work(b);
    b.flags(0, b.undefined_flags() | undefined_at_trap);
    out.push_back(b.finish());
  }
}

}  // namespace

std::vector<TestCase> gen_exceptions() {
  Rng rng(0xe4cu);
  std::vector<TestCase> out;
  edge_cases(rng, out);
  random_cases(rng, out, 450);
  return out;
}

}  // namespace difftest
