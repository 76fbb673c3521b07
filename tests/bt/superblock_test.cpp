// Superblocks (Options::superblocks): a unit goes on through direct jmp/call into their target,
// within unit-max and two guest pages, and a write to (or a remapping of) either page still
// discards it exactly.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <array>
#include <cstring>
#include <vector>

#include "bt/engine.h"
#include "cpu/cpu.h"
#include "engine_fixture.h"

namespace {

constexpr uint32_t kCode = 0x400000;     // three linear code pages from here
constexpr uint32_t kStack = 0x21000000;  // one page of guest stack (guest linear = host)
constexpr uint32_t kStackTop = kStack + 0x1000 - 16;

using bt_test::NoHooks, bt_test::NoMemory, bt_test::NoPorts;

// Three linear pages, each backed by one of four frames (a remapping changes `map`).
struct PagedCode final : bt::CodeSource {
  std::array<std::array<uint8_t, 4096>, 4> frames{};
  std::array<int, 3> map = {0, 1, 2};
  const uint8_t* code(uint32_t linear, uint32_t& avail) override {
    if (linear < kCode || linear >= kCode + 3 * 4096) return nullptr;
    avail = 4096 - (linear & 4095);
    return frames[map[(linear - kCode) >> 12]].data() + (linear & 4095);
  }
  uint32_t phys_page(uint32_t linear) override {
    return linear < kCode || linear >= kCode + 3 * 4096 ? 0 : 100 + map[(linear - kCode) >> 12];
  }
  void put(uint32_t linear, std::vector<uint8_t> bytes) {
    std::memcpy(frames[map[(linear - kCode) >> 12]].data() + (linear & 4095), bytes.data(),
                bytes.size());
  }
};

// A jmp rel32 at `from` to `to` (5 bytes).
std::vector<uint8_t> jmp(uint32_t from, uint32_t to) {
  const uint32_t rel = to - (from + 5);
  return {0xE9, uint8_t(rel), uint8_t(rel >> 8), uint8_t(rel >> 16), uint8_t(rel >> 24)};
}

class SuperblockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    void* p = mmap(reinterpret_cast<void*>(uintptr_t(kStack)), 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    ASSERT_EQ(p, reinterpret_cast<void*>(uintptr_t(kStack))) << "cannot map the test stack";
    cpu_.reset_multiboot(kCode, 0, 0);
    v_.gpr[cpu::ESP] = kStackTop;
  }
  void TearDown() override { munmap(reinterpret_cast<void*>(uintptr_t(kStack)), 4096); }
  bt::Options opt(bool superblocks) {
    bt::Options o;
    o.superblocks = superblocks;
    return o;
  }
  // Runs from kCode until `stop`.
  void run(bt::Engine& e, uint32_t stop) {
    e.set_stop_eip(stop);
    v_.eip = kCode;
    ASSERT_EQ(e.run().kind, bt::RunExit::Kind::Stop);
  }

  cpu::Vcpu v_;
  NoMemory mem_;
  NoPorts ports_;
  NoHooks hooks_;
  cpu::Cpu cpu_{v_, mem_, ports_, hooks_};
  PagedCode src_;
};

// mov eax, 1; jmp A; (int3s); A: add eax, 2; jmp B; B: add eax, 4; nop (stop after it)
void put_jump_chain(PagedCode& src) {
  src.put(kCode, {0xB8, 1, 0, 0, 0});
  src.put(kCode + 5, jmp(kCode + 5, kCode + 0x40));
  src.put(kCode + 10, {0xCC, 0xCC, 0xCC});
  src.put(kCode + 0x40, {0x83, 0xC0, 0x02});
  src.put(kCode + 0x43, jmp(kCode + 0x43, kCode + 0x80));
  src.put(kCode + 0x80, {0x83, 0xC0, 0x04, 0x90});
}

TEST_F(SuperblockTest, AUnitGoesOnThroughDirectJumps) {
  put_jump_chain(src_);
  for (bool on : {false, true}) {
    bt::Engine e(cpu_, src_, opt(on));
    std::vector<bt::UnitRecord> made;
    e.set_unit_observer([&](const bt::UnitRecord& u) { made.push_back(u); });
    run(e, kCode + 0x84);
    EXPECT_EQ(v_.gpr[cpu::EAX], 7u);
    EXPECT_EQ(e.stats().jumps_folded, on ? 2u : 0u);
    ASSERT_EQ(made.size(), on ? 1u : 3u);
    if (!on) continue;
    // One unit: its instructions come from three places, its bytes instruction by instruction.
    ASSERT_EQ(made[0].insns.size(), 6u);
    EXPECT_EQ(made[0].insns[2].second, kCode + 0x40);
    EXPECT_EQ(made[0].insns[4].second, kCode + 0x80);
    EXPECT_EQ(made[0].guest.size(), 5u + 5 + 3 + 5 + 3 + 1);
    ASSERT_EQ(made[0].chains.size(), 1u);  // only its end, at the stop address
    EXPECT_EQ(made[0].chains[0].target, kCode + 0x84);
    const std::string listing = bt::format_unit(made[0], true);
    EXPECT_NE(listing.find("00400080  83 c0 04"), std::string::npos) << listing;
  }
}

TEST_F(SuperblockTest, ADirectCallIsFoldedWithItsPush) {
  // mov esp, top; call F; nop; ... F: mov eax, [esp] is not possible here (no memory):
  // F: mov ebx, esp; nop — the callee runs in the caller's unit with esp moved by 4.
  src_.put(kCode, {0xBC, uint8_t(kStackTop), uint8_t(kStackTop >> 8), uint8_t(kStackTop >> 16),
                   uint8_t(kStackTop >> 24)});
  src_.put(kCode + 5, {0xE8, 0x36, 0, 0, 0});  // call kCode + 0x40
  src_.put(kCode + 0x40, {0x89, 0xE3, 0x90});
  for (bool on : {false, true}) {
    bt::Engine e(cpu_, src_, opt(on));
    run(e, kCode + 0x42);
    EXPECT_EQ(v_.gpr[cpu::EBX], kStackTop - 4);
    EXPECT_EQ(e.stats().calls_folded, on ? 1u : 0u);
    EXPECT_EQ(e.stats().units, on ? 1u : 2u);
  }
}

TEST_F(SuperblockTest, ALoopIsNotUnrolledAndUnitMaxBoundsTheUnit) {
  // l: inc ecx; jmp l — the jmp back into the unit's own code is a chain to its start, not a
  // copy of the loop.
  src_.put(kCode, {0x41, 0xEB, 0xFD});
  {
    bt::Engine e(cpu_, src_, opt(true));
    std::vector<bt::UnitRecord> made;
    e.set_unit_observer([&](const bt::UnitRecord& u) { made.push_back(u); });
    e.translate_for_bench(kCode);
    ASSERT_EQ(made.size(), 1u);
    EXPECT_EQ(made[0].insns.size(), 2u);
    ASSERT_EQ(made[0].chains.size(), 1u);
    EXPECT_EQ(made[0].chains[0].target, kCode);
    EXPECT_EQ(e.stats().jumps_folded, 0u);
  }

  put_jump_chain(src_);
  bt::Options o = opt(true);
  o.max_unit_instructions = 3;  // mov, jmp, add | jmp, add, nop: the cap ends the first unit
  bt::Engine small(cpu_, src_, o);
  run(small, kCode + 0x84);
  EXPECT_EQ(v_.gpr[cpu::EAX], 7u);
  EXPECT_EQ(small.stats().jumps_folded, 2u);
  EXPECT_EQ(small.stats().units, 2u);
  EXPECT_EQ(small.stats().guest_instructions, 6u);
}

TEST_F(SuperblockTest, AWriteToTheSecondPageDiscardsTheUnit) {
  // Page 0: mov eax, 1; jmp page 1. Page 1: add eax, 2; nop (stop).
  src_.put(kCode, {0xB8, 1, 0, 0, 0});
  src_.put(kCode + 5, jmp(kCode + 5, kCode + 0x1000));
  src_.put(kCode + 0x1000, {0x83, 0xC0, 0x02, 0x90});
  bt::Engine e(cpu_, src_, opt(true));
  run(e, kCode + 0x1003);
  EXPECT_EQ(v_.gpr[cpu::EAX], 3u);
  EXPECT_EQ(e.stats().units, 1u);
  EXPECT_EQ(e.stats().cross_page_units, 1u);
  src_.put(kCode + 0x1000, {0x83, 0xC0, 0x05});  // the guest writes page 1's frame (101)
  EXPECT_EQ(e.invalidate_frame(101), 1u);
  run(e, kCode + 0x1003);
  EXPECT_EQ(v_.gpr[cpu::EAX], 6u);
  EXPECT_EQ(e.stats().units, 2u);
}

TEST_F(SuperblockTest, ASecondPageNowMappedElsewhereMakesTheUnitAgain) {
  src_.put(kCode, {0xB8, 1, 0, 0, 0});
  src_.put(kCode + 5, jmp(kCode + 5, kCode + 0x1000));
  src_.put(kCode + 0x1000, {0x83, 0xC0, 0x02, 0x90});
  src_.map[1] = 3;
  src_.put(kCode + 0x1000, {0x83, 0xC0, 0x09, 0x90});  // frame 3 holds other code there
  src_.map[1] = 1;
  bt::Engine e(cpu_, src_, opt(true));
  run(e, kCode + 0x1003);
  EXPECT_EQ(v_.gpr[cpu::EAX], 3u);
  src_.map[1] = 3;  // another address space: same first page, another second one
  e.unlink();       // what a CR3 write does to chains and the jump cache
  run(e, kCode + 0x1003);
  EXPECT_EQ(v_.gpr[cpu::EAX], 10u);
  EXPECT_EQ(e.stats().units, 2u);
}

TEST_F(SuperblockTest, AJumpToAThirdPageIsNotFolded) {
  // Page 0 -> page 1 (folded) -> page 2 (a chain: a unit covers two pages at most).
  src_.put(kCode, {0xB8, 1, 0, 0, 0});
  src_.put(kCode + 5, jmp(kCode + 5, kCode + 0x1000));
  src_.put(kCode + 0x1000, {0x83, 0xC0, 0x02});
  src_.put(kCode + 0x1003, jmp(kCode + 0x1003, kCode + 0x2000));
  src_.put(kCode + 0x2000, {0x83, 0xC0, 0x04, 0x90});
  bt::Engine e(cpu_, src_, opt(true));
  run(e, kCode + 0x2003);
  EXPECT_EQ(v_.gpr[cpu::EAX], 7u);
  EXPECT_EQ(e.stats().jumps_folded, 1u);
  EXPECT_EQ(e.stats().units, 2u);
}

TEST_F(SuperblockTest, AnInstructionReachingAThirdPageStartsTheNextUnit) {
  // Page 0: jmp to the last 2 bytes of page 1, where a 5-byte mov crosses into page 2.
  src_.put(kCode, jmp(kCode, kCode + 0x1FFE));
  src_.put(kCode + 0x1FFE, {0xB8, 0x11});
  src_.put(kCode + 0x2000, {0x22, 0x33, 0x44, 0x90});
  bt::Engine e(cpu_, src_, opt(true));
  run(e, kCode + 0x2003);
  EXPECT_EQ(v_.gpr[cpu::EAX], 0x44332211u);
  // The jump was folded, but the mov would need a third page: the unit ends before it.
  EXPECT_EQ(e.stats().jumps_folded, 0u);
  EXPECT_EQ(e.stats().units, 2u);
}

}  // namespace
