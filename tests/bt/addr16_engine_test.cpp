// 16-bit addressing (0x67) in translated 32-bit code: every ModRM combination with its 64 KiB
// wrap, the forms that need their own encodings (ah..bh, bt with a register offset, xlat, moffs,
// pop [m], mov [m], sreg, string instructions), and the forms that load through the operand
// (push, call/jmp, x87, callouts). The data lives at FS's base (CS/DS/ES/SS are flat in
// translated code, and the low 64 KiB of this process cannot be mapped), so the ds:/ss:/es:
// forms are checked by the address their access faults at.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstring>
#include <utility>
#include <vector>

#include "bt/engine.h"
#include "cpu/cpu.h"
#include "engine_fixture.h"

namespace {

constexpr uint32_t kBase = 0x22000000, kSize = 0x30000;
constexpr uint32_t kSeg = kBase + 0x10000;  // FS base: offsets 0..0xFFFF plus a few bytes
constexpr uint32_t kStackTop = kBase + 0x8000;

constexpr uint8_t kFs = 0x64, kA16 = 0x67;

// Code is fetched only below kStackTop (the first 32 KiB); FS's data lies above.
class Addr16Test : public bt_test::MappedEngineTest<> {
 protected:
  Addr16Test() : MappedEngineTest(kBase, kSize, kStackTop, {kBase, kBase + 0x8000}) {}
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(MappedEngineTest::SetUp());
    cpu::Segment fs = v_.seg[cpu::FS];
    fs.base = kSeg;
    v_.load_segment_cache(cpu::FS, fs);
    v_.cr0 |= cpu::cr0::NE | cpu::cr0::MP;
  }

  bt::RunExit run(const std::vector<uint8_t>& code) {
    v_.eip = kBase;
    return MappedEngineTest::run(code);
  }
  template <typename T>
  T& seg(uint32_t offset) {
    return *reinterpret_cast<T*>(uintptr_t(kSeg + offset));
  }
  void clear_segment() { std::memset(reinterpret_cast<void*>(uintptr_t(kSeg)), 0, 0x10010); }
};

// Registers with garbage in their upper halves, chosen so that sums pass 64 KiB.
constexpr uint32_t kEbx = 0xAAAAFFF0, kEbp = 0x55558000, kEsi = 0x33330030, kEdi = 0x77770011;

// The 16-bit effective address of ModRM (mod, rm) with displacement `disp`, as the SDM's
// table 2-1 defines it.
uint16_t expected_ea(unsigned mod, unsigned rm, int32_t disp) {
  const uint16_t bx = uint16_t(kEbx), bp = uint16_t(kEbp), si = uint16_t(kEsi), di = uint16_t(kEdi);
  static const int kBase[8] = {0, 0, 1, 1, -1, -1, 1, 0};   // 0 bx, 1 bp, -1 none
  static const int kIndex[8] = {0, 1, 0, 1, 0, 1, -1, -1};  // 0 si, 1 di, -1 none
  if (mod == 0 && rm == 6) return uint16_t(disp);
  uint32_t ea = uint32_t(disp);
  if (kBase[rm] == 0) ea += bx;
  if (kBase[rm] == 1) ea += bp;
  if (kIndex[rm] == 0) ea += si;
  if (kIndex[rm] == 1) ea += di;
  return uint16_t(ea);
}

void set_regs(cpu::Vcpu& v) {
  v.gpr[cpu::EBX] = kEbx;
  v.gpr[cpu::EBP] = kEbp;
  v.gpr[cpu::ESI] = kEsi;
  v.gpr[cpu::EDI] = kEdi;
}

TEST_F(Addr16Test, EveryModrmCombinationWrapsAt64KiB) {
  for (unsigned mod = 0; mod < 3; ++mod) {
    for (unsigned rm = 0; rm < 8; ++rm) {
      // disp8 -0x40 (wraps below 0 for [si]/[di]); disp16 0x8123 (wraps above 0xFFFF).
      const int32_t disp = mod == 1 ? -0x40 : (mod == 2 || rm == 6) ? 0x8123 : 0;
      std::vector<uint8_t> code{kFs, kA16, 0x8B, uint8_t(mod << 6 | rm)};  // mov eax, fs:[...]
      if (mod == 1) code.push_back(uint8_t(disp));
      if (mod == 2 || (mod == 0 && rm == 6)) {
        code.push_back(uint8_t(disp));
        code.push_back(uint8_t(disp >> 8));
      }
      clear_segment();
      const uint16_t ea = expected_ea(mod, rm, disp);
      const uint32_t marker = 0xC0DE0000 | mod << 8 | rm;
      seg<uint32_t>(ea) = marker;
      set_regs(v_);
      reg(cpu::EAX) = 0;
      ASSERT_EQ(run(code).kind, bt::RunExit::Kind::Stop) << "mod " << mod << " rm " << rm;
      EXPECT_EQ(reg(cpu::EAX), marker) << "mod " << mod << " rm " << rm << " ea " << std::hex << ea;
      // A store through the same operand (mov fs:[...], ecx) lands at the same place.
      code[2] = 0x89;
      code[3] |= 1 << 3;
      reg(cpu::ECX) = ~marker;
      ASSERT_EQ(run(code).kind, bt::RunExit::Kind::Stop);
      EXPECT_EQ(seg<uint32_t>(ea), ~marker) << "mod " << mod << " rm " << rm;
    }
  }
}

TEST_F(Addr16Test, DefaultSegmentAccessesFaultAtTheTruncatedOffset) {
  // mov eax, [bp+di] (ss), mov [bx+0x8000], eax (ds), inc dword [si-0x40]: flat segments, so
  // the linear address is the offset, below 64 KiB whatever the upper halves hold.
  struct Case {
    std::vector<uint8_t> code;
    uint32_t address;
  };
  const Case cases[] = {
      {{kA16, 0x8B, 0x03}, uint16_t(uint16_t(kEbp) + uint16_t(kEdi))},
      {{kA16, 0x89, 0x87, 0x00, 0x80}, uint16_t(uint16_t(kEbx) + 0x8000)},
      {{kA16, 0xFF, 0x44, 0xC0}, uint16_t(uint16_t(kEsi) - 0x40)},
      {{kA16, 0x88, 0x27}, uint16_t(kEbx)},  // mov [bx], ah: the patched-disp32 form
  };
  for (const Case& k : cases) {
    set_regs(v_);
    const auto x = run(k.code);
    ASSERT_EQ(x.kind, bt::RunExit::Kind::MemoryFault);
    EXPECT_EQ(x.address, k.address);
    EXPECT_EQ(v_.eip, kBase);
    EXPECT_EQ(reg(cpu::EBX), kEbx);
  }
}

TEST_F(Addr16Test, AluReadModifyWriteAndFlags) {
  clear_segment();
  seg<uint32_t>(0x20) = 0xFFFFFFFF;
  set_regs(v_);  // bx + si = 0x10020 -> 0x0020
  // add dword fs:[bx+si], 1; setc cl; sub eax, eax; or eax, fs:[bx+si+2] (0x0022)
  seg<uint16_t>(0x24) = 0x1234;
  const std::vector<uint8_t> code{kFs,  kA16, 0x83, 0x00, 0x01, 0x0F, 0x92, 0xC1,
                                  0x29, 0xC0, kFs,  kA16, 0x0B, 0x40, 0x02};
  ASSERT_EQ(run(code).kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(seg<uint32_t>(0x20), 0u);
  EXPECT_EQ(reg(cpu::ECX) & 0xff, 1u);
  EXPECT_EQ(reg(cpu::EAX), 0x12340000u);
}

TEST_F(Addr16Test, HighByteRegistersUseThePatchedForm) {
  clear_segment();
  seg<uint8_t>(0xFFF0) = 0x42;
  set_regs(v_);
  reg(cpu::EAX) = 0x11110000;
  reg(cpu::EBX) = 0xAAAA07F0 | 0xF800;  // bx = 0xFFF0, bh = 0xFF
  // mov ah, fs:[bx]; add fs:[bx+si], bh (bx + si = 0x0020); run again by the same
  // translation with other addresses (the disp32 is patched each time).
  const std::vector<uint8_t> code{kFs, kA16, 0x8A, 0x27, kFs, kA16, 0x00, 0x38};
  std::memcpy(reinterpret_cast<void*>(uintptr_t(kBase)), code.data(), code.size());
  bt::Engine e(cpu_, src_, {});
  e.set_stop_eip(kBase + uint32_t(code.size()));
  v_.eip = kBase;
  ASSERT_EQ(e.run().kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(reg(cpu::EAX), 0x11114200u);
  EXPECT_EQ(seg<uint8_t>(0x20), 0xFF);
  reg(cpu::EBX) = (reg(cpu::EBX) & ~0xFFFFu) | 0x0100;  // bx = 0x0100: [0x0100] and [0x0130]
  seg<uint8_t>(0x100) = 0x77;
  v_.eip = kBase;
  ASSERT_EQ(e.run().kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(reg(cpu::EAX), 0x11117700u);
  EXPECT_EQ(seg<uint8_t>(0x130), 0x01);
  EXPECT_EQ(e.stats().units, 1u);
}

TEST_F(Addr16Test, BitTestRegisterOffsetMovesTheAddressBeforeTheWrap) {
  clear_segment();
  set_regs(v_);
  reg(cpu::EBX) = 0xAAAA0002;
  reg(cpu::EAX) = 0xFFFFFFFF;  // bit -1: bit 31 of the dword at bx - 4 = 0xFFFE
  reg(cpu::EDX) = 0x00000011;  // dx = 17: bit 1 of the word at bx + 2 = 0x0004
  seg<uint16_t>(0x0004) = 0x0002;
  // bts dword fs:[bx], eax; setc cl; bt word fs:[bx], dx; setc ch
  const std::vector<uint8_t> code{kFs, kA16, 0x0F, 0xAB, 0x07, 0x0F, 0x92, 0xC1, 0x66,
                                  kFs, kA16, 0x0F, 0xA3, 0x17, 0x0F, 0x92, 0xC5};
  ASSERT_EQ(run(code).kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(seg<uint32_t>(0xFFFE), 0x80000000u);
  EXPECT_EQ(reg(cpu::ECX) & 0xffff, 0x0100u);  // bts saw 0, bt saw 1
  EXPECT_EQ(reg(cpu::EAX), 0xFFFFFFFFu);
}

TEST_F(Addr16Test, MoffsXlatAndSegmentStore) {
  clear_segment();
  seg<uint32_t>(0x1234) = 0xDEADBEEF;
  seg<uint8_t>(0x0001) = 0x5A;
  set_regs(v_);
  reg(cpu::EBX) = 0x9999FFFF;
  reg(cpu::EDX) = 0;
  // mov eax, fs:[0x1234]; mov fs:[0xF000], eax; mov edx, eax; mov al, 2; xlat fs: (bx + 2 =
  // 0x0001); mov fs:[di], ds
  const std::vector<uint8_t> code{kFs,  kA16, 0xA1, 0x34, 0x12, kFs,  kA16, 0xA3, 0x00, 0xF0, 0x89,
                                  0xC2, 0xB0, 0x02, kFs,  kA16, 0xD7, kFs,  kA16, 0x8C, 0x1D};
  ASSERT_EQ(run(code).kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(seg<uint32_t>(0xF000), 0xDEADBEEFu);
  EXPECT_EQ(reg(cpu::EDX), 0xDEADBEEFu);
  EXPECT_EQ(reg(cpu::EAX), 0xDEADBE5Au);
  EXPECT_EQ(seg<uint16_t>(uint16_t(kEdi)), v_.seg[cpu::DS].sel);
  EXPECT_NE(v_.seg[cpu::DS].sel, 0);
}

TEST_F(Addr16Test, PushPopCallAndJumpThroughMemory) {
  clear_segment();
  set_regs(v_);
  seg<uint32_t>(uint16_t(kEbx)) = 0x01020304;
  // push dword fs:[bx]; pop dword fs:[si]; push word fs:[bx]; pop word fs:[di]
  std::vector<uint8_t> code{kFs, kA16, 0xFF, 0x37, kFs,  kA16, 0x8F, 0x04, 0x66,
                            kFs, kA16, 0xFF, 0x37, 0x66, kFs,  kA16, 0x8F, 0x05};
  ASSERT_EQ(run(code).kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(seg<uint32_t>(uint16_t(kEsi)), 0x01020304u);
  EXPECT_EQ(seg<uint16_t>(uint16_t(kEdi)), 0x0304u);
  EXPECT_EQ(reg(cpu::ESP), kStackTop);
  // call dword fs:[bp+si] (0x8030) to the jmp dword fs:[bx] (to the end)
  const uint32_t after_call = kBase + 4, end = kBase + 8;
  seg<uint32_t>(uint16_t(kEbp + kEsi)) = after_call;
  seg<uint32_t>(uint16_t(kEbx)) = end;
  code = {kFs, kA16, 0xFF, 0x12, kFs, kA16, 0xFF, 0x27};
  ASSERT_EQ(run(code).kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(v_.eip, end);
  EXPECT_EQ(reg(cpu::ESP), kStackTop - 4);
  EXPECT_EQ(*reinterpret_cast<uint32_t*>(uintptr_t(kStackTop - 4)), after_call);
}

TEST_F(Addr16Test, X87LoadAndStoreAndACallout) {
  clear_segment();
  set_regs(v_);
  const float f = 2.5f;
  std::memcpy(&seg<uint32_t>(uint16_t(kEbx)), &f, 4);
  // fld dword fs:[bx]; fadd st0, st0; fstp dword fs:[0x1000]; sgdt fs:[di-0x40]
  const std::vector<uint8_t> code{kFs,  kA16, 0xD9, 0x07, 0xD8, 0xC0, kFs,  kA16, 0xD9,
                                  0x1E, 0x00, 0x10, kFs,  kA16, 0x0F, 0x01, 0x45, 0xC0};
  ASSERT_EQ(run(code).kind, bt::RunExit::Kind::Stop);
  float g;
  std::memcpy(&g, &seg<uint32_t>(0x1000), 4);
  EXPECT_EQ(g, 5.0f);
  const uint16_t at = uint16_t(uint16_t(kEdi) - 0x40);
  EXPECT_EQ(seg<uint16_t>(at), v_.gdtr.limit);
  EXPECT_EQ(seg<uint32_t>(at + 2), v_.gdtr.base);
}

TEST_F(Addr16Test, LodsWrapsAndStepsBothWays) {
  clear_segment();
  seg<uint32_t>(0xFFFC) = 0x11111111;
  seg<uint32_t>(0x0000) = 0x22222222;
  seg<uint32_t>(0x0004) = 0x33333333;
  set_regs(v_);
  reg(cpu::ESI) = 0x4444FFFC;
  reg(cpu::ECX) = 0x55550003;
  // rep lodsd fs: with cx = 3: 0xFFFC, 0x0000, 0x0004
  ASSERT_EQ(run({0xF3, kFs, kA16, 0xAD}).kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(reg(cpu::EAX), 0x33333333u);
  EXPECT_EQ(reg(cpu::ESI), 0x44440008u);
  EXPECT_EQ(reg(cpu::ECX), 0x55550000u);
  // std; lodsw fs: at 0x0000 steps to 0xFFFE; cld
  reg(cpu::ESI) = 0x44440000;
  ASSERT_EQ(run({0xFD, kFs, kA16, 0x66, 0xAD, 0xFC}).kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(reg(cpu::EAX) & 0xffff, 0x2222u);
  EXPECT_EQ(reg(cpu::ESI), 0x4444FFFEu);
  // rep with cx = 0 does nothing
  reg(cpu::ECX) = 0x55550000;
  reg(cpu::EAX) = 0;
  ASSERT_EQ(run({0xF3, kFs, kA16, 0xAD}).kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(reg(cpu::EAX), 0u);
  EXPECT_EQ(reg(cpu::ESI), 0x4444FFFEu);
}

TEST_F(Addr16Test, StringFaultsLeaveTheRegistersAtTheFailingElement) {
  // es:di is flat, so it lies below 64 KiB and faults here: rep movsb from fs:si copies
  // nothing, and SI/DI/CX are as before the instruction (it restarts there).
  set_regs(v_);
  reg(cpu::ECX) = 0x66660005;
  const uint32_t esi = reg(cpu::ESI);
  auto x = run({0xF3, kFs, kA16, 0xA4});
  ASSERT_EQ(x.kind, bt::RunExit::Kind::MemoryFault);
  EXPECT_EQ(x.address, uint16_t(kEdi));
  EXPECT_EQ(reg(cpu::ESI), esi);
  EXPECT_EQ(reg(cpu::EDI), kEdi);
  EXPECT_EQ(reg(cpu::ECX), 0x66660005u);
  EXPECT_EQ(v_.eip, kBase);
  // stosw with DI = 0xFFFF: the word at 0xFFFF (the access does not wrap, only the offset).
  reg(cpu::EDI) = 0x1234FFFF;
  x = run({0x66, kA16, 0xAB});
  ASSERT_EQ(x.kind, bt::RunExit::Kind::MemoryFault);
  EXPECT_EQ(x.address, 0xFFFFu);
  // repne scasb, cmpsb: the first access is at es:di too (cmps reads ds:si first: 0x0030).
  reg(cpu::EDI) = kEdi;
  x = run({0xF2, kA16, 0xAE});
  ASSERT_EQ(x.kind, bt::RunExit::Kind::MemoryFault);
  EXPECT_EQ(x.address, uint16_t(kEdi));
  x = run({0xF3, kA16, 0xA6});
  ASSERT_EQ(x.kind, bt::RunExit::Kind::MemoryFault);
  EXPECT_EQ(x.address, uint16_t(kEsi));
  EXPECT_EQ(reg(cpu::ECX), 0x66660005u);
}

// Exact forms with 16-bit addressing are watchable (page-table traces, MMIO): the watch sees
// the linear address (segment base + the 16-bit offset) and the operand size, and the access
// goes where it says. Other forms stop when they must be watched.
TEST_F(Addr16Test, ExactFormsAreWatchedAtTheirLinearAddress) {
  uint8_t redirect[16] = {};
  redirect[4] = 0xFF;
  std::vector<std::pair<uint32_t, unsigned>> begun;
  // mov [bx+si], eax (0x0020); add dword fs:[bx], 1 (kSeg + 0xFFF0, reads 0xFF)
  const std::vector<uint8_t> code{kA16, 0x89, 0x00, kFs, kA16, 0x83, 0x07, 0x01};
  std::memcpy(reinterpret_cast<void*>(uintptr_t(kBase)), code.data(), code.size());
  set_regs(v_);
  reg(cpu::EAX) = 0x12345678;
  v_.eip = kBase;
  {
    bt::Engine e(cpu_, src_, {});
    e.set_write_watch({
        [](uint32_t) { return true; },
        [&](uint32_t linear, unsigned bytes, unsigned) {
          begun.emplace_back(linear, bytes);
          bt::WatchedAccess w;
          w.kind = bt::WatchedAccess::Kind::Host;
          w.host = reinterpret_cast<uint64_t>(redirect + (begun.size() == 1 ? 0 : 4));
          return w;
        },
        [] {},
        {},
    });
    e.set_stop_eip(kBase + uint32_t(code.size()));
    ASSERT_EQ(e.run().kind, bt::RunExit::Kind::Stop);
  }
  using P = std::pair<uint32_t, unsigned>;
  EXPECT_EQ(begun, (std::vector<P>{{0x0020, 4}, {kSeg + 0xFFF0, 4}}));
  uint32_t a, b;
  std::memcpy(&a, redirect, 4);
  std::memcpy(&b, redirect + 4, 4);
  EXPECT_EQ(a, 0x12345678u);
  EXPECT_EQ(b, 0x100u);

  // mov [bx], ah and rep stosb are not exact forms: a page that must be watched stops them.
  for (const std::vector<uint8_t>& other :
       {std::vector<uint8_t>{kA16, 0x88, 0x27}, std::vector<uint8_t>{0xF3, kA16, 0xAA}}) {
    std::memcpy(reinterpret_cast<void*>(uintptr_t(kBase)), other.data(), other.size());
    v_.eip = kBase;
    bt::Engine e(cpu_, src_, {});
    e.set_write_watch({[](uint32_t) { return true; },
                       [](uint32_t, unsigned, unsigned) { return bt::WatchedAccess{}; }, [] {},
                       [](uint32_t eip) { return eip == kBase; }});
    e.set_stop_eip(kBase + uint32_t(other.size()));
    const auto x = e.run();
    ASSERT_EQ(x.kind, bt::RunExit::Kind::Unsupported);
    EXPECT_NE(x.what.find("unsupported MMIO access form"), std::string::npos) << x.what;
  }
}

TEST_F(Addr16Test, MaskmovqWith16BitAddressingStopsAsUnsupported) {
  const auto x = run({kA16, 0x0F, 0xF7, 0xC1});
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Unsupported);
  EXPECT_NE(x.what.find("maskmovq with 16-bit addressing"), std::string::npos) << x.what;
}

}  // namespace
