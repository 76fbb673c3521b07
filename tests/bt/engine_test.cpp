// Engine-level tests on hand-written guest code in a low mapping of this process (guest linear
// = host address, as in the shadow window): control flow, chaining, jump cache, callouts,
// exits. Instruction semantics are covered by the differential tests in tests/diff.
#include "bt/engine.h"

#include <Zydis/Zydis.h>
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "cpu/cpu.h"
#include "engine_fixture.h"

namespace {

constexpr uint32_t kBase = 0x20000000, kSize = 0x20000;
constexpr uint32_t kStackTop = kBase + kSize - 16;

struct RecordingPorts final : cpu::Ports {
  std::vector<std::pair<uint16_t, uint32_t>> outs;
  uint32_t in(uint16_t port, unsigned) override { return port == 0x60 ? 0x5a : 0xffffffff; }
  void out(uint16_t port, unsigned, uint32_t v) override { outs.emplace_back(port, v); }
};

class EngineTest : public bt_test::MappedEngineTest<RecordingPorts> {
 protected:
  EngineTest() : MappedEngineTest(kBase, kSize, kStackTop, {kBase, kBase + kSize}) {}
};

TEST_F(EngineTest, StraightLineArithmeticReachesStop) {
  // mov eax, 5; add eax, 7; mov ebx, eax; inc ebx (0x43: a REX prefix in 64-bit mode)
  auto x = run({0xB8, 5, 0, 0, 0, 0x83, 0xC0, 7, 0x89, 0xC3, 0x43});
  EXPECT_EQ(x.kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(reg(cpu::EAX), 12u);
  EXPECT_EQ(reg(cpu::EBX), 13u);
  EXPECT_EQ(v_.eip, kBase + 11);
}

TEST_F(EngineTest, AnInvalidatedFrameIsTranslatedAgain) {
  auto* code = reinterpret_cast<uint8_t*>(uintptr_t(kBase));
  const uint8_t mov_eax_1[] = {0xB8, 1, 0, 0, 0};
  std::memcpy(code, mov_eax_1, sizeof mov_eax_1);
  bt::Engine e(cpu_, src_);
  e.set_stop_eip(kBase + 5);
  ASSERT_EQ(e.run().kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(reg(cpu::EAX), 1u);
  code[1] = 2;  // nobody tells the engine: the old translation runs
  v_.eip = kBase;
  e.run();
  EXPECT_EQ(reg(cpu::EAX), 1u);
  EXPECT_EQ(e.invalidate_frame(0), 1u);  // this source keeps everything in frame 0
  v_.eip = kBase;
  e.run();
  EXPECT_EQ(reg(cpu::EAX), 2u);
  EXPECT_EQ(e.stats().invalidated, 1u);
  EXPECT_EQ(e.stats().units, 2u);
  EXPECT_EQ(e.invalidate_frame(7), 0u);
}

// Code whose second page comes from one of two frames, as in two address spaces.
struct TwoFrameCode final : bt::CodeSource {
  uint8_t first[4096] = {}, second[2][4096] = {};
  int frame = 0;
  const uint8_t* code(uint32_t linear, uint32_t& avail) override {
    if (linear < kBase || linear >= kBase + 8192) return nullptr;
    avail = 4096 - (linear & 4095);
    const uint8_t* page = linear < kBase + 4096 ? first : second[frame];
    return page + (linear & 4095);
  }
  uint32_t phys_page(uint32_t linear) override {
    return linear < kBase + 4096 ? 1 : uint32_t(10 + frame);
  }
};

TEST_F(EngineTest, AUnitCrossingIntoAPageNowMappedElsewhereIsMadeAgain) {
  TwoFrameCode src;
  // mov eax, imm32 at the last two bytes of the first page; the immediate's last three bytes
  // (and then a nop) on the second, different in each frame.
  src.first[4094] = 0xB8;
  src.first[4095] = 0x11;
  const uint8_t a[] = {0x22, 0x33, 0x44, 0x90}, b[] = {0xAA, 0xBB, 0xCC, 0x90};
  std::memcpy(src.second[0], a, 4);
  std::memcpy(src.second[1], b, 4);
  bt::Engine e(cpu_, src);
  e.set_stop_eip(kBase + 4096 + 4);
  v_.eip = kBase + 4094;
  ASSERT_EQ(e.run().kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(reg(cpu::EAX), 0x44332211u);
  src.frame = 1;
  v_.eip = kBase + 4094;
  ASSERT_EQ(e.run().kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(reg(cpu::EAX), 0xCCBBAA11u);
  // A write to the second frame invalidates the crossing unit too.
  EXPECT_EQ(e.invalidate_frame(11), 2u);  // the crossing unit, and the one after it
}

bt::WatchedAccess host_access(void* p) {
  return {bt::WatchedAccess::Kind::Host, reinterpret_cast<uint64_t>(p), {}};
}

// A watched write is re-encoded to go through [r12] (WriteWatch): every operand form must
// reach the redirected address with the right size, and read-modify-writes must read it too.
TEST_F(EngineTest, WatchedWritesGoWhereTheWatchSays) {
  constexpr uint32_t kData = kBase + 0x8000;
  uint8_t redirect[64] = {};
  uint32_t init[] = {0, 0, 0, 0x01, 0x55555555, 0, 0xFF};  // offsets 0..24, by 4
  std::memcpy(redirect, init, sizeof init);
  std::vector<std::pair<uint32_t, unsigned>> begun;
  int ended = 0;
  std::vector<uint8_t> code = {
      0xBB, 0,    0x80, 0,    0x20,              // mov ebx, kData
      0xB8, 0x11, 0x11, 0x11, 0x11,              // mov eax, 0x11111111
      0xBA, 0x44, 0x44, 0x44, 0x44,              // mov edx, 0x44444444
      0xB9, 0x66, 0x66, 0,    0,                 // mov ecx, 0x6666
      0x31, 0xF6,                                // xor esi, esi
      0x89, 0x43, 0x04,                          // mov [ebx+4], eax
      0xC7, 0x43, 0x08, 0x22, 0x22, 0x22, 0x22,  // mov dword [ebx+8], 0x22222222
      0x83, 0x4C, 0xB3, 0x0C, 0x30,              // or dword [ebx+esi*4+12], 0x30
      0x87, 0x53, 0x10,                          // xchg [ebx+16], edx
      0x66, 0x89, 0x4B, 0x14,                    // mov [ebx+20], cx
      0x88, 0x4B, 0x16,                          // mov [ebx+22], cl
      0xF0, 0x0F, 0xBA, 0x73, 0x18, 0x03,        // lock btr dword [ebx+24], 3
      0x88, 0x63, 0x1C,                          // mov [ebx+28], ah (ah has no REX form: unwatched)
  };
  static_assert(kData == 0x20008000);
  std::memcpy(reinterpret_cast<void*>(uintptr_t(kBase)), code.data(), code.size());
  bt::Engine e(cpu_, src_);
  e.set_write_watch({
      [](uint32_t) { return true; },
      [&](uint32_t linear, unsigned bytes, unsigned) {
        begun.emplace_back(linear - kData, bytes);
        return host_access(redirect + (linear - kData));
      },
      [&] { ++ended; },
  });
  e.set_stop_eip(kBase + uint32_t(code.size()));
  ASSERT_EQ(e.run().kind, bt::RunExit::Kind::Stop);
  auto at = [&](unsigned off) {
    uint32_t v;
    std::memcpy(&v, redirect + off, 4);
    return v;
  };
  EXPECT_EQ(at(4), 0x11111111u);
  EXPECT_EQ(at(8), 0x22222222u);
  EXPECT_EQ(at(12), 0x31u);
  EXPECT_EQ(at(16), 0x44444444u);
  EXPECT_EQ(reg(cpu::EDX), 0x55555555u);  // xchg read the redirected word
  EXPECT_EQ(at(20), 0x00666666u);         // cx at 20, cl at 22
  EXPECT_EQ(at(24), 0xF7u);
  EXPECT_EQ(at(28), 0u);
  auto* guest = reinterpret_cast<const uint8_t*>(uintptr_t(kData));
  for (unsigned off = 0; off < 28; ++off) EXPECT_EQ(guest[off], 0) << "guest byte " << off;
  EXPECT_EQ(guest[28], 0x11);  // the unwatched form wrote the guest's memory
  using P = std::pair<uint32_t, unsigned>;
  EXPECT_EQ(begun, (std::vector<P>{{4, 4}, {8, 4}, {12, 4}, {16, 4}, {20, 2}, {22, 1}, {24, 4}}));
  EXPECT_EQ(ended, 7);
}

// Only forms whose access is exactly their operand are redirected: a register bit offset
// (+-256 MiB), lea (the host address would land in a guest register) and nop stay with the
// window, whatever the registers hold. The redirect page sits between two inaccessible pages,
// so a stray host access could not go unnoticed either.
TEST_F(EngineTest, AWatchedWriteReachesNothingButItsOperand) {
  constexpr uint32_t kData = kBase + 0x8000;
  auto* guard =
      static_cast<uint8_t*>(mmap(nullptr, 3 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(guard, MAP_FAILED);
  uint8_t* page = guard + 4096;
  ASSERT_EQ(mprotect(page, 4096, PROT_READ | PROT_WRITE), 0);
  struct Case {
    const char* what;
    std::vector<uint8_t> code;
    uint32_t eax;
    bool redirected;
  };
  const Case cases[] = {
      {"bts [ebx], eax (+256 MiB)", {0x0F, 0xAB, 0x03}, 0x7FFFFFFF, false},
      {"bt [ebx], eax (-256 MiB)", {0x0F, 0xA3, 0x03}, 0x80000000, false},
      {"btr [ebx], eax", {0x0F, 0xB3, 0x03}, 0x00FFFFFF, false},
      {"btc [ebx+4], eax", {0x0F, 0xBB, 0x43, 0x04}, 0xFFFFFFE0, false},
      {"lea eax, [ebx+4]", {0x8D, 0x43, 0x04}, 0, false},
      {"nop dword [ebx]", {0x0F, 0x1F, 0x03}, 0, false},
      {"bts dword [ebx], 31", {0x0F, 0xBA, 0x2B, 0x1F}, 0, true},
      {"cmpxchg8b [ebx]", {0x0F, 0xC7, 0x0B}, 0, true},
      {"mov [ebx+0xffc], eax", {0x89, 0x83, 0xFC, 0x0F, 0, 0}, 0x12345678, true},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.what);
    std::memset(page, 0, 4096);
    std::memset(reinterpret_cast<void*>(uintptr_t(kData)), 0, 4096);
    std::vector<uint8_t> code = {0xBB, 0, 0x80, 0, 0x20};  // mov ebx, kData
    code.insert(code.end(), k.code.begin(), k.code.end());
    std::memcpy(reinterpret_cast<void*>(uintptr_t(kBase)), code.data(), code.size());
    reg(cpu::EAX) = k.eax;
    reg(cpu::EDX) = reg(cpu::ECX) = 0;
    v_.eip = kBase;
    int begun = 0;
    bt::Engine e(cpu_, src_);
    e.set_write_watch({
        [](uint32_t) { return true; },
        [&](uint32_t linear, unsigned bytes, unsigned) {
          ++begun;
          EXPECT_LE((linear & 4095) + bytes, 4096u);
          return host_access(page + (linear & 4095));
        },
        [] {},
    });
    e.set_stop_eip(kBase + uint32_t(code.size()));
    const auto x = e.run();
    EXPECT_EQ(begun, k.redirected ? 1 : 0);
    if (x.kind == bt::RunExit::Kind::MemoryFault) {
      // Only the window's own addresses: the guest's operand plus its bit offset.
      EXPECT_FALSE(k.redirected);
      EXPECT_EQ(x.address >> 28, (kData + (int32_t(k.eax) >> 3)) >> 28) << std::hex << x.address;
    } else {
      ASSERT_EQ(x.kind, bt::RunExit::Kind::Stop);
    }
    const bool page_written = std::any_of(page, page + 4096, [](uint8_t b) { return b != 0; });
    EXPECT_EQ(page_written, k.redirected);  // cmpxchg8b: edx:eax = 0 = [mem], so ecx:ebx goes
    if (k.code[0] == 0x8D) {
      EXPECT_EQ(reg(cpu::EAX), kData + 4);
    }
  }
  munmap(guard, 3 * 4096);
}

// MMIO through the watch: every operand form reaches `begin` with its width and whether it
// reads and/or writes, runs on the buffer `begin` returns (here: unassigned memory, all ones),
// and `end` sees what it wrote. Flags and registers are the instruction's own.
struct UnassignedWatch {
  struct Access {
    uint32_t linear;
    unsigned bytes, access;
    bool operator==(const Access&) const = default;
  };
  std::vector<Access> begun;
  std::vector<uint64_t> written;  // the buffer at each end, for writers
  alignas(16) uint8_t buf[16];
  unsigned open_access = 0, open_bytes = 0;
  bt::WriteWatch watch(uint32_t mmio_page) {
    return {[](uint32_t) { return true; },
            [this, mmio_page](uint32_t linear, unsigned bytes, unsigned access) {
              if ((linear & ~0xfffu) != mmio_page) return bt::WatchedAccess{};  // the window
              begun.push_back({linear, bytes, access});
              std::memset(buf, (access & bt::kWatchRead) ? 0xff : 0xcc, sizeof buf);
              open_access = access;
              open_bytes = bytes;
              return host_access(buf);
            },
            [this] {
              if (!(open_access & bt::kWatchWrite)) return;
              uint64_t v = 0;
              std::memcpy(&v, buf, open_bytes);
              written.push_back(v);
              open_access = 0;
            },
            {}};
  }
};

TEST_F(EngineTest, MmioOperandsOfEveryWidthGoThroughTheWatch) {
  constexpr uint32_t kMmio = 0x30000000;  // nothing mapped there: the window would fault
  std::vector<uint8_t> code = {
      0xBB, 0x00, 0x00, 0x00, 0x30,  // mov ebx, kMmio
      0x8A, 0x03,                    // mov al, [ebx]                 R1
      0x66, 0x8B, 0x53, 0x02,        // mov dx, [ebx+2]               R2
      0x8B, 0x73, 0x04,              // mov esi, [ebx+4]              R4
      0xA1, 0x08, 0x00, 0x00, 0x30,  // mov eax, [0x30000008] (moffs) R4
      0x0F, 0xBF, 0x7B, 0x0C,        // movsx edi, word [ebx+12]      R2
      0x0F, 0xB7, 0x6B, 0x0E,        // movzx ebp, word [ebx+14]      R2
      0xC6, 0x43, 0x10, 0x5A,        // mov byte [ebx+16], 0x5a       W1
      0xA3, 0x14, 0x00, 0x00, 0x30,  // mov [0x30000014], eax (moffs) W4
      0x83, 0x43, 0x18, 0x01,        // add dword [ebx+24], 1         RW4: 0, ZF CF
      0x9C,                          // pushfd
      0x31, 0xC0,                    // xor eax, eax
      0x48,                          // dec eax (eax = ~0)
      0x89, 0xC2,                    // mov edx, eax
      0xB9, 0x44, 0x33, 0x22, 0x11,  // mov ecx, 0x11223344
      0x53,                          // push ebx
      0xBB, 0x88, 0x77, 0x66, 0x55,  // mov ebx, 0x55667788
      0x8B, 0x1C, 0x24,              // mov ebx, [esp]
      0xBB, 0x88, 0x77, 0x66, 0x55,  // mov ebx, 0x55667788
      0x8B, 0x34, 0x24,              // mov esi, [esp] (the MMIO base again)
      0x0F, 0xC7, 0x4E, 0x20,        // cmpxchg8b [esi+32]            RW8: equal, writes ecx:ebx
      0x5B,                          // pop ebx
  };
  std::memcpy(reinterpret_cast<void*>(uintptr_t(kBase)), code.data(), code.size());
  UnassignedWatch w;
  bt::Engine e(cpu_, src_);
  e.set_write_watch(w.watch(kMmio));
  e.set_stop_eip(kBase + uint32_t(code.size()));
  ASSERT_EQ(e.run().kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(reg(cpu::EDI), 0xffffffffu);  // movsx of all ones
  EXPECT_EQ(reg(cpu::EBP), 0xffffu);      // movzx
  EXPECT_EQ(reg(cpu::EDX), 0xffffffffu);  // cmpxchg8b found edx:eax equal: edx kept
  EXPECT_TRUE(v_.eflags & cpu::fl::ZF) << "cmpxchg8b: equal";
  auto* stack = reinterpret_cast<const uint32_t*>(uintptr_t(reg(cpu::ESP)));
  const uint32_t add_flags = stack[0];  // pushfd's (ebx above it was popped)
  EXPECT_TRUE(add_flags & cpu::fl::ZF) << "add [mmio], 1: ~0 + 1 = 0";
  EXPECT_TRUE(add_flags & cpu::fl::CF);
  using A = UnassignedWatch::Access;
  constexpr unsigned R = bt::kWatchRead, W = bt::kWatchWrite;
  EXPECT_EQ(w.begun, (std::vector<A>{{kMmio, 1, R},
                                     {kMmio + 2, 2, R},
                                     {kMmio + 4, 4, R},
                                     {kMmio + 8, 4, R},
                                     {kMmio + 12, 2, R},
                                     {kMmio + 14, 2, R},
                                     {kMmio + 16, 1, W},
                                     {kMmio + 20, 4, W},
                                     {kMmio + 24, 4, R | W},
                                     {kMmio + 32, 8, R | W}}));
  EXPECT_EQ(w.written, (std::vector<uint64_t>{0x5a, 0xffffffff, 0, 0x1122334455667788ull}));
}

// A fault from `begin` (the guest's #PF on a page of the operand) is raised at the instruction
// before it changes anything; a form `must` names that cannot be redirected stops the VM.
TEST_F(EngineTest, MmioFaultsArePreciseAndOtherFormsStop) {
  constexpr uint32_t kMmio = 0x30000000;
  std::vector<uint8_t> code = {
      0xBB, 0x00, 0x00, 0x00, 0x30,  // mov ebx, kMmio
      0xB8, 0x07, 0x00, 0x00, 0x00,  // mov eax, 7
      0x01, 0x03,                    // add [ebx], eax
  };
  std::memcpy(reinterpret_cast<void*>(uintptr_t(kBase)), code.data(), code.size());
  {
    bt::Engine e(cpu_, src_);
    e.set_write_watch({[](uint32_t) { return true; },
                       [](uint32_t linear, unsigned, unsigned) {
                         bt::WatchedAccess f;
                         f.kind = bt::WatchedAccess::Kind::Fault;
                         f.fault = cpu::Fault{cpu::kPF, true, 3, linear};
                         return f;
                       },
                       [] { ADD_FAILURE() << "end after a fault"; },
                       {}});
    e.set_stop_eip(kBase + uint32_t(code.size()));
    auto x = e.run();
    ASSERT_EQ(x.kind, bt::RunExit::Kind::Exception);
    EXPECT_EQ(x.fault.vector, cpu::kPF);
    EXPECT_EQ(x.fault.cr2, kMmio);
    EXPECT_EQ(v_.eip, kBase + 10);
    EXPECT_EQ(reg(cpu::EAX), 7u);
  }

  const std::vector<uint8_t> push = {0xFF, 0x33};  // push dword [ebx]
  std::memcpy(reinterpret_cast<void*>(uintptr_t(kBase)), push.data(), push.size());
  v_.eip = kBase;
  bt::Engine e2(cpu_, src_);
  e2.set_write_watch({[](uint32_t) { return true; },
                      [](uint32_t, unsigned, unsigned) { return bt::WatchedAccess{}; }, [] {},
                      [](uint32_t eip) { return eip == kBase; }});
  e2.set_stop_eip(kBase + 2);
  const auto x2 = e2.run();
  ASSERT_EQ(x2.kind, bt::RunExit::Kind::Unsupported);
  EXPECT_NE(x2.what.find("unsupported MMIO access form"), std::string::npos) << x2.what;
  EXPECT_NE(x2.what.find("push"), std::string::npos) << x2.what;
}

// fs: accesses go through the host GS base, set only when it does not hold the segment's base
// already (it survives across units and runs); a changed base is seen.
// Forms that are neither exactly their operand nor a load (pop [mem] here) go through the host
// GS base.
TEST_F(EngineTest, FsAccessesFollowTheSegmentBaseAcrossRuns) {
  auto* mem = reinterpret_cast<uint32_t*>(uintptr_t(kBase));
  const uint8_t code[] = {0x50, 0x64, 0x8F, 0x05, 4, 0, 0, 0};  // push eax; pop dword fs:[4]
  std::memcpy(mem, code, sizeof code);
  auto set_fs = [&](uint32_t base) {
    cpu::Segment s = v_.seg[cpu::FS];
    s.base = base;
    v_.load_segment_cache(cpu::FS, s);
  };
  bt::Engine e(cpu_, src_);
  e.set_stop_eip(kBase + sizeof code);
  set_fs(kBase + 0x1000);
  for (uint32_t i = 0; i < 2; ++i) {  // the second time, the host GS base is already right
    v_.eip = kBase;
    reg(cpu::EAX) = 0x1111 + i;
    ASSERT_EQ(e.run().kind, bt::RunExit::Kind::Stop);
    EXPECT_EQ(mem[0x1004 / 4], 0x1111u + i);
    EXPECT_EQ(v_.host_gs_base, kBase + 0x1000u);
  }
  set_fs(kBase + 0x2000);
  v_.eip = kBase;
  ASSERT_EQ(e.run().kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(mem[0x2004 / 4], 0x1112u);
  EXPECT_EQ(v_.host_gs_base, kBase + 0x2000u);
  v_.host_gs_base = cpu::kHostGsBaseUnknown;  // as after direct execution
  set_fs(kBase + 0x1000);
  v_.eip = kBase;
  reg(cpu::EAX) = 0x3333;
  ASSERT_EQ(e.run().kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(mem[0x1004 / 4], 0x3333u);
}

// The host's FS holds the monitor's TLS, and the signal trampoline relies on nothing in this
// process loading FS (hostexec/src/host_signals.cpp, without FSGSBASE): guest loads of FS and
// GS are callouts, and no translated instruction writes the host FS selector or base.
TEST_F(EngineTest, GuestSegmentLoadsNeverLoadTheHostFs) {
  auto* stack = reinterpret_cast<uint32_t*>(uintptr_t(kStackTop - 8));
  stack[0] = stack[1] = 0;  // null selectors for pop fs / pop gs
  const uint8_t code[] = {
      0x31, 0xC0,                          // xor eax, eax
      0x8E, 0xE0,                          // mov fs, ax
      0x8E, 0xE8,                          // mov gs, ax
      0x0F, 0xA1,                          // pop fs
      0x0F, 0xA9,                          // pop gs
      0x0F, 0xB4, 0x05, 0, 0x80, 0, 0x20,  // lfs eax, [kBase + 0x8000]
      0x0F, 0xB5, 0x05, 0, 0x80, 0, 0x20,  // lgs eax, [kBase + 0x8000]
  };
  v_.gpr[cpu::ESP] = kStackTop - 8;
  ASSERT_NE(v_.seg[cpu::FS].sel, 0);
  bt::Engine e(cpu_, src_);
  std::vector<std::vector<uint8_t>> host;
  e.set_unit_observer(
      [&](const bt::UnitRecord& u) { host.emplace_back(u.host, u.host + u.host_size); });
  load(std::vector<uint8_t>(code, code + sizeof code));
  e.set_stop_eip(kBase + sizeof code);
  ASSERT_EQ(e.run().kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(v_.seg[cpu::FS].sel, 0);  // the loads ran (the multiboot state has 0x10)
  ASSERT_FALSE(host.empty());
  ZydisDecoder dec;
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  size_t insns = 0;
  for (const auto& h : host) {
    ZydisDecodedInstruction in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    for (size_t at = 0; at < h.size(); at += in.length) {
      if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, h.data() + at, h.size() - at, &in, ops)))
        break;  // data after the code (exit stub tables)
      ++insns;
      EXPECT_NE(in.mnemonic, ZYDIS_MNEMONIC_WRFSBASE) << "at +" << at;
      for (unsigned i = 0; i < in.operand_count; ++i)
        EXPECT_FALSE(ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER &&
                     ops[i].reg.value == ZYDIS_REGISTER_FS &&
                     (ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
            << "host code writes FS at +" << at;
    }
  }
  EXPECT_GT(insns, 10u);
}

// i386 TLS lives at negative offsets from gs: base + offset wraps at 4 GiB, as on the part.
TEST_F(EngineTest, FsAndGsOperandsWrapAt4GiB) {
  auto* mem = reinterpret_cast<uint32_t*>(uintptr_t(kBase));
  mem[0x1000 / 4] = 0x1111;
  mem[0x1004 / 4] = 0;
  cpu::Segment s = v_.seg[cpu::GS];
  s.base = kBase + 0x1010;
  v_.load_segment_cache(cpu::GS, s);
  s = v_.seg[cpu::FS];
  s.base = kBase + 0x1000;
  v_.load_segment_cache(cpu::FS, s);
  reg(cpu::ECX) = 0xfffffff0;  // -16
  reg(cpu::EBX) = 0xabcd;
  const std::vector<uint8_t> code = {
      0x65, 0xA1, 0xF0, 0xFF, 0xFF, 0xFF,  // mov eax, gs:[0xfffffff0] (moffs): 0x1000
      0x65, 0x89, 0x59, 0xF8,              // mov gs:[ecx-8], ebx: 0x1010 - 24 = 0xff8
      0x65, 0x03, 0x01,                    // add eax, gs:[ecx]: 0x1000
      0x64, 0x8B, 0x51, 0x14,              // mov edx, fs:[ecx+20]: 0x1000 + 4
      0x65, 0xFF, 0x31,                    // push dword gs:[ecx]: 0x1000 (busybox's TLS)
      0x5E,                                // pop esi
  };
  auto x = run(code);
  EXPECT_EQ(x.kind, bt::RunExit::Kind::Stop) << x.what;
  EXPECT_EQ(reg(cpu::EAX), 0x1111u + 0x1111u);
  EXPECT_EQ(mem[0xff8 / 4], 0xabcdu);
  EXPECT_EQ(reg(cpu::EDX), 0u);
  EXPECT_EQ(reg(cpu::ESI), 0x1111u);
}

TEST_F(EngineTest, LoopIsChainedAndCountsDown) {
  // mov ecx, 1000; xor eax, eax; L: add eax, 2; loop L
  auto x = run({0xB9, 0xE8, 3, 0, 0, 0x31, 0xC0, 0x83, 0xC0, 2, 0xE2, 0xFB});
  EXPECT_EQ(x.kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(reg(cpu::EAX), 2000u);
  EXPECT_EQ(reg(cpu::ECX), 0u);
  EXPECT_GE(stats_.chains, 1u);
  EXPECT_LE(stats_.entries, 5u) << "the loop should run chained, not through the dispatcher";
}

TEST_F(EngineTest, CallAndRetUseTheGuestStackAndTheJumpCache) {
  // mov ecx, 100; L: call F; loop L; jmp end; F: inc eax; ret; end:
  std::vector<uint8_t> code = {0xB9, 100,  0, 0, 0,  // 0: mov ecx,100
                               0xE8, 4,    0, 0, 0,  // 5: call F (at 14)
                               0xE2, 0xF9,           // 10: loop 5
                               0xEB, 2,              // 12: jmp 16
                               0x40, 0xC3};          // 14: F: inc eax; ret
  reg(cpu::EAX) = 0;
  auto x = run(code);
  EXPECT_EQ(x.kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(reg(cpu::EAX), 100u);
  EXPECT_EQ(reg(cpu::ESP), kStackTop);
  EXPECT_EQ(*reinterpret_cast<uint32_t*>(uintptr_t(kStackTop - 4)), kBase + 10);
  EXPECT_GE(stats_.lookup_hits, 98u);
}

TEST_F(EngineTest, AbsoluteMemoryOperandIsNotRipRelative) {
  uint32_t slot = kBase + 0x8000;
  // mov dword [slot], 0x11223344; mov eax, [slot]
  std::vector<uint8_t> code = {0xC7, 0x05};
  for (int i = 0; i < 4; ++i) code.push_back(uint8_t(slot >> (8 * i)));
  for (uint8_t b : {0x44, 0x33, 0x22, 0x11}) code.push_back(b);
  code.push_back(0xA1);
  for (int i = 0; i < 4; ++i) code.push_back(uint8_t(slot >> (8 * i)));
  auto x = run(code);
  EXPECT_EQ(x.kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(reg(cpu::EAX), 0x11223344u);
}

TEST_F(EngineTest, PortIoAndCpuidGoThroughCallouts) {
  // mov al, 0x41; out 0xe9, al; in al, 0x60; mov esi, eax; xor eax,eax; cpuid
  auto x = run({0xB0, 0x41, 0xE6, 0xE9, 0xE4, 0x60, 0x89, 0xC6, 0x31, 0xC0, 0x0F, 0xA2});
  EXPECT_EQ(x.kind, bt::RunExit::Kind::Stop) << x.what;
  ASSERT_EQ(ports_.outs.size(), 1u);
  EXPECT_EQ(ports_.outs[0], std::make_pair(uint16_t(0xe9), uint32_t(0x41)));
  EXPECT_EQ(reg(cpu::ESI) & 0xff, 0x5au);
  EXPECT_EQ(reg(cpu::EAX), cpu_.model().max_basic_leaf);  // highest basic leaf
  EXPECT_EQ(stats_.callouts[size_t(bt::CalloutKind::Cpuid)], 1u);
}

TEST_F(EngineTest, FlagsSurviveCalloutsAndPushf) {
  // stc; std; cpuid; pushfd; pop eax; cld
  reg(cpu::EAX) = 0;
  auto x = run({0xF9, 0xFD, 0x0F, 0xA2, 0x9C, 0x58, 0xFC});
  EXPECT_EQ(x.kind, bt::RunExit::Kind::Stop);
  EXPECT_TRUE(reg(cpu::EAX) & cpu::fl::CF);
  EXPECT_TRUE(reg(cpu::EAX) & cpu::fl::DF);
  EXPECT_FALSE(reg(cpu::EAX) & cpu::fl::IF);
}

TEST_F(EngineTest, DivideByZeroIsAPreciseException) {
  // mov ebx, 7; xor ecx, ecx; div ecx
  reg(cpu::EAX) = 10;
  reg(cpu::EDX) = 0;
  auto x = run({0xBB, 7, 0, 0, 0, 0x31, 0xC9, 0xF7, 0xF1});
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Exception);
  EXPECT_EQ(x.fault.vector, cpu::kDE);
  EXPECT_EQ(v_.eip, kBase + 7);
  EXPECT_EQ(reg(cpu::EBX), 7u);
}

TEST_F(EngineTest, IntNIsASoftwareExceptionWithTheNextEip) {
  auto x = run({0x90, 0xCD, 0x80, 0x90});
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Exception);
  EXPECT_TRUE(x.software);
  EXPECT_EQ(x.fault.vector, 0x80);
  EXPECT_EQ(v_.eip, kBase + 1);
  EXPECT_EQ(x.next_eip, kBase + 3);
}

TEST_F(EngineTest, UnsupportedInstructionStopsWithItsDisassembly) {
  v_.seg[cpu::DS].base = 0x1000;  // segment bases are not implemented in translated code
  v_.seg_base[cpu::DS] = 0x1000;
  auto x = run({0xD9, 0xE8});  // fld1
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Unsupported);
  EXPECT_NE(x.what.find("fld1"), std::string::npos) << x.what;
  EXPECT_NE(x.what.find("non-zero base"), std::string::npos) << x.what;
  EXPECT_EQ(v_.eip, kBase);
}

TEST_F(EngineTest, OpcodesThePartLacksAreUd) {
  const std::vector<std::vector<uint8_t>> lacking = {
      {0xF3, 0x0F, 0xB8, 0xC1},  // popcnt eax, ecx (no POPCNT on a P6)
      {0x0F, 0x01, 0xC1},        // vmcall
      {0x0F, 0x01, 0xF9},        // rdtscp
      {0x66, 0x0F, 0xD4, 0xC1},  // paddq xmm0, xmm1 (SSE2)
      {0xC5, 0xF8, 0x77},        // vzeroupper (AVX)
      {0x0F, 0x0D, 0x08},        // prefetchw (3DNow!)
  };
  for (const auto& code : lacking) {
    auto x = run(code);
    ASSERT_EQ(x.kind, bt::RunExit::Kind::Exception) << x.what;
    EXPECT_EQ(x.fault.vector, cpu::kUD);
    EXPECT_EQ(v_.eip, kBase);
  }
}

// The Pentium III has SEP; bt86 keeps IA32_SYSENTER_CS at 0 (SEP is not advertised), where
// both instructions are #GP(0) on the part. They used to stop the VM ("unsupported").
TEST_F(EngineTest, SysenterAndSysexitAreGpWithSysenterCsZero) {
  for (const auto& code : {std::vector<uint8_t>{0x90, 0x0F, 0x34}, {0x90, 0x0F, 0x35}}) {
    auto x = run(code);
    ASSERT_EQ(x.kind, bt::RunExit::Kind::Exception) << x.what;
    EXPECT_EQ(x.fault.vector, cpu::kGP);
    EXPECT_TRUE(x.fault.has_error);
    EXPECT_EQ(x.fault.error, 0u);
    EXPECT_EQ(v_.eip, kBase + 1);
  }
}

// lar/lsl/verr/verw/arpl are callouts that answer in ZF and a register or memory (the rules
// themselves: tests/cpu/descriptor_queries_test.cpp).
TEST_F(EngineTest, SelectorQueriesSetZfAndTheirDestination) {
  const uint32_t gdt = kBase + 0x1000, slot = kBase + 0x800;
  const uint64_t code0 = 0x00cf9a000000ffffull, data0 = 0x00cf92000000ffffull;
  std::memcpy(reinterpret_cast<void*>(uintptr_t(gdt + 8)), &code0, 8);
  std::memcpy(reinterpret_cast<void*>(uintptr_t(gdt + 16)), &data0, 8);
  v_.gdtr = {gdt, 0x17};
  auto zf = [&] { return (v_.eflags & cpu::fl::ZF) != 0; };
  auto rerun = [&](const std::vector<uint8_t>& code) {
    v_.eip = kBase;
    return run(code);
  };
  // mov ecx, 0x10; or ecx, ecx (ZF = 0); lar eax, ecx
  auto x = run({0xB9, 0x10, 0, 0, 0, 0x09, 0xC9, 0x0F, 0x02, 0xC1});
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Stop) << x.what;
  EXPECT_TRUE(zf());
  EXPECT_EQ(reg(cpu::EAX), 0x00cf9200u);
  // mov ecx, 0x18 (beyond the limit); xor edx, edx (ZF = 1); mov eax, 0x1234; lar eax, ecx
  x = rerun({0xB9, 0x18, 0, 0, 0, 0x31, 0xD2, 0xB8, 0x34, 0x12, 0, 0, 0x0F, 0x02, 0xC1});
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Stop) << x.what;
  EXPECT_FALSE(zf());
  EXPECT_EQ(reg(cpu::EAX), 0x1234u);  // unchanged
  // 16-bit lar: mov eax, 0xaaaa5555; mov ecx, 0x10; lar ax, cx
  x = rerun({0xB8, 0x55, 0x55, 0xAA, 0xAA, 0xB9, 0x10, 0, 0, 0, 0x66, 0x0F, 0x02, 0xC1});
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Stop) << x.what;
  EXPECT_EQ(reg(cpu::EAX), 0xaaaa9200u);
  // Memory forms, selector 0x08 at `slot`: or ecx, ecx; verr [slot]; lsl edx, [slot]
  const uint16_t sel = 0x08;
  std::memcpy(reinterpret_cast<void*>(uintptr_t(slot)), &sel, 2);
  std::vector<uint8_t> code = {0x09, 0xC9, 0x0F, 0x00, 0x25};
  for (int i = 0; i < 4; ++i) code.push_back(uint8_t(slot >> (8 * i)));
  code.insert(code.end(), {0x0F, 0x03, 0x15});
  for (int i = 0; i < 4; ++i) code.push_back(uint8_t(slot >> (8 * i)));
  x = rerun(code);
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Stop) << x.what;
  EXPECT_TRUE(zf());
  EXPECT_EQ(reg(cpu::EDX), 0xffffffffu);
  // verw cx with cx = 0x08 (code): ZF = 0
  x = rerun({0xB9, 0x08, 0, 0, 0, 0x31, 0xD2, 0x0F, 0x00, 0xE9});
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Stop) << x.what;
  EXPECT_FALSE(zf());
  // arpl ax, cx: mov eax, 0x10; mov ecx, 3; arpl ax, cx; then arpl [slot], cx
  code = {0xB8, 0x10, 0, 0, 0, 0xB9, 3, 0, 0, 0, 0x63, 0xC8, 0x63, 0x0D};
  for (int i = 0; i < 4; ++i) code.push_back(uint8_t(slot >> (8 * i)));
  x = rerun(code);
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Stop) << x.what;
  EXPECT_EQ(reg(cpu::EAX), 0x13u);
  EXPECT_TRUE(zf());
  uint16_t now = 0;
  std::memcpy(&now, reinterpret_cast<void*>(uintptr_t(slot)), 2);
  EXPECT_EQ(now, 0x0b);
  // arpl ax, cx again: RPL already 3, ZF = 0
  x = rerun({0x63, 0xC8});
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Stop) << x.what;
  EXPECT_FALSE(zf());
  EXPECT_EQ(stats_.callouts[size_t(bt::CalloutKind::SelectorQuery)], 1u);
}

// ins/outs go through the port bus one element at a time (the rules: tests/cpu/string_io_test).
TEST_F(EngineTest, RepInsAndOutsMoveStringsThroughPorts) {
  const uint32_t buf = kBase + 0x800;
  std::memcpy(reinterpret_cast<void*>(uintptr_t(buf)), "abc", 3);
  // mov esi, buf; mov ecx, 3; mov edx, 0xe9; rep outsb
  std::vector<uint8_t> code = {0xBE};
  for (int i = 0; i < 4; ++i) code.push_back(uint8_t(buf >> (8 * i)));
  code.insert(code.end(), {0xB9, 3, 0, 0, 0, 0xBA, 0xE9, 0, 0, 0, 0xF3, 0x6E});
  // mov edi, buf + 16; mov ecx, 2; mov dl, 0x60; rep insd
  code.push_back(0xBF);
  for (int i = 0; i < 4; ++i) code.push_back(uint8_t((buf + 16) >> (8 * i)));
  code.insert(code.end(), {0xB9, 2, 0, 0, 0, 0xB2, 0x60, 0xF3, 0x6D});
  auto x = run(code);
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Stop) << x.what;
  ASSERT_EQ(ports_.outs.size(), 3u);
  EXPECT_EQ(ports_.outs[2], std::make_pair(uint16_t(0xe9), uint32_t('c')));
  EXPECT_EQ(reg(cpu::ESI), buf + 3);
  uint32_t got[3] = {};
  std::memcpy(got, reinterpret_cast<void*>(uintptr_t(buf + 16)), sizeof got);
  EXPECT_EQ(got[0], 0x5au);
  EXPECT_EQ(got[1], 0x5au);
  EXPECT_EQ(got[2], 0u);
  EXPECT_EQ(reg(cpu::EDI), buf + 24);
  EXPECT_EQ(reg(cpu::ECX), 0u);
}

TEST_F(EngineTest, RepBsfAndRepBsrAreBsfAndBsr) {
  // mov ecx, 0x00F0; rep bsf eax, ecx; rep bsr edx, ecx (tzcnt/lzcnt on a BMI host: 4 and 24)
  auto x = run({0xB9, 0xF0, 0, 0, 0, 0xF3, 0x0F, 0xBC, 0xC1, 0xF3, 0x0F, 0xBD, 0xD1});
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Stop) << x.what;
  EXPECT_EQ(reg(cpu::EAX), 4u);
  EXPECT_EQ(reg(cpu::EDX), 7u);
}

TEST_F(EngineTest, HltLeavesWithHalt) {
  auto x = run({0xFA, 0xF4, 0x90});
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Halt);
  EXPECT_EQ(v_.eip, kBase + 2);
  EXPECT_EQ(v_.if_flag, 0);
}

TEST_F(EngineTest, PendingEventStopsASpinningLoop) {
  // A jmp-to-self loop exits at a unit entry once the pending word is set. Set it up front:
  // the loop must still be entered through a unit entry, which checks it.
  v_.pending.async = 1;
  auto x = run({0xEB, 0xFE});
  EXPECT_EQ(x.kind, bt::RunExit::Kind::Event);
}

}  // namespace

namespace {
// mov ecx, 10; L: dec ecx; jnz L — 21 guest instructions executed.
const std::vector<uint8_t> kCountdown = {0xB9, 0x0A, 0, 0, 0, 0x49, 0x75, 0xFD};
}  // namespace

TEST_F(EngineTest, EntryCountsGiveTheHottestUnitAndTheInstructionsExecuted) {
  std::memcpy(reinterpret_cast<void*>(uintptr_t(kBase)), kCountdown.data(), kCountdown.size());
  bt::Options opt;
  opt.count_entries = true;
  bt::Engine e(cpu_, src_, opt);
  e.set_stop_eip(kBase + uint32_t(kCountdown.size()));
  ASSERT_EQ(e.run().kind, bt::RunExit::Kind::Stop);
  auto ec = e.entry_counts(1);
  EXPECT_TRUE(ec.enabled);
  EXPECT_EQ(ec.guest_instructions, 21u);  // the first unit (3) once, the loop's (2) 9 times
  EXPECT_EQ(ec.unit_entries, 10u);
  ASSERT_EQ(ec.hottest.size(), 1u);
  EXPECT_EQ(ec.hottest[0].eip, kBase + 5);
  EXPECT_EQ(ec.hottest[0].entries, 9u);
  // A flush keeps what was counted.
  e.flush();
  EXPECT_EQ(e.entry_counts(1).guest_instructions, 21u);
}

TEST_F(EngineTest, WithoutEntryCountsNothingIsCounted) {
  std::memcpy(reinterpret_cast<void*>(uintptr_t(kBase)), kCountdown.data(), kCountdown.size());
  bt::Engine e(cpu_, src_);
  e.set_stop_eip(kBase + uint32_t(kCountdown.size()));
  ASSERT_EQ(e.run().kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(reg(cpu::ECX), 0u);
  auto ec = e.entry_counts(5);
  EXPECT_FALSE(ec.enabled);
  EXPECT_EQ(ec.unit_entries, 0u);
  EXPECT_TRUE(ec.hottest.empty());
}

// mov ecx, 10; l: dec ecx; jnz l; mov eax, 7; nop: the loop's exit is made with the loop.
TEST_F(EngineTest, ALoopsExitIsTranslatedWithTheLoop) {
  const std::vector<uint8_t> code = {0xB9, 0x0A, 0,    0, 0, 0x49, 0x75,
                                     0xFD, 0xB8, 0x07, 0, 0, 0,    0x90};
  std::memcpy(reinterpret_cast<void*>(uintptr_t(kBase)), code.data(), code.size());
  for (bool ahead : {true, false}) {
    bt::Options opt;
    opt.translate_loop_exits = ahead;
    bt::Engine e(cpu_, src_, opt);
    e.set_stop_eip(kBase + uint32_t(code.size()));
    std::vector<uint32_t> made;
    e.set_unit_observer([&](const bt::UnitRecord& u) { made.push_back(u.eip); });
    v_.eip = kBase;
    ASSERT_EQ(e.run().kind, bt::RunExit::Kind::Stop);
    EXPECT_EQ(v_.gpr[cpu::EAX], 7u);
    // The first unit already holds the loop (mov ecx; dec ecx; jnz): the mov at +8 is made
    // right after it, before the loop's own unit at +5; without the option, when the loop ends.
    ASSERT_EQ(made.size(), 3u);
    EXPECT_EQ(made[1], ahead ? kBase + 8 : kBase + 5);
    EXPECT_EQ(made[2], ahead ? kBase + 5 : kBase + 8);
    EXPECT_EQ(e.stats().loop_exit_units, ahead ? 1u : 0u);
    EXPECT_EQ(e.stats().units, 3u);
  }
}

TEST_F(EngineTest, TheUnitObserverSeesEveryUnitWithItsBytesAndChainSites) {
  std::memcpy(reinterpret_cast<void*>(uintptr_t(kBase)), kCountdown.data(), kCountdown.size());
  bt::Engine e(cpu_, src_);
  e.set_stop_eip(kBase + uint32_t(kCountdown.size()));
  std::vector<bt::UnitRecord> seen;
  e.set_unit_observer([&](const bt::UnitRecord& u) { seen.push_back(u); });
  ASSERT_EQ(e.run().kind, bt::RunExit::Kind::Stop);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].eip, kBase);
  EXPECT_EQ(seen[0].guest, kCountdown);
  EXPECT_EQ(seen[1].eip, kBase + 5);
  ASSERT_EQ(seen[1].chains.size(), 2u);  // jnz taken and not taken
  EXPECT_EQ(seen[1].chains[0].target, kBase + 5);
  const std::string listing = bt::format_unit(seen[1], true);
  EXPECT_NE(listing.find("chain site -> guest 20000005"), std::string::npos) << listing;
  EXPECT_NE(listing.find("dec ecx"), std::string::npos) << listing;
}
