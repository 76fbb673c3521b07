// Per-site inline caches for indirect branches (Options::IndirectBranch::Inline): a site
// remembers its last target and reaches it without the table, and never reaches a target
// that was invalidated since (a written frame, a new jump-cache generation).
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <vector>

#include "bt/engine.h"
#include "cpu/cpu.h"
#include "engine_fixture.h"

namespace {

constexpr uint32_t kCode = 0x400000;  // two linear code pages, frames 100 and 101

using bt_test::NoHooks, bt_test::NoMemory, bt_test::NoPorts;

struct TwoPages final : bt::CodeSource {
  std::array<std::array<uint8_t, 4096>, 2> pages{};
  const uint8_t* code(uint32_t linear, uint32_t& avail) override {
    if (linear < kCode || linear >= kCode + 2 * 4096) return nullptr;
    avail = 4096 - (linear & 4095);
    return pages[(linear - kCode) >> 12].data() + (linear & 4095);
  }
  uint32_t phys_page(uint32_t linear) override { return 100 + ((linear - kCode) >> 12); }
  void put(uint32_t linear, std::vector<uint8_t> b) {
    std::memcpy(pages[(linear - kCode) >> 12].data() + (linear & 4095), b.data(), b.size());
  }
};

class InlineCacheTest : public ::testing::Test {
 protected:
  void SetUp() override { cpu_.reset_multiboot(kCode, 0, 0); }
  static bt::Options opt(bool inline_caches) {
    bt::Options o;
    o.indirect =
        inline_caches ? bt::Options::IndirectBranch::Inline : bt::Options::IndirectBranch::Table;
    return o;
  }
  void run(bt::Engine& e, uint32_t from, uint32_t stop) {
    e.set_stop_eip(stop);
    v_.eip = from;
    ASSERT_EQ(e.run().kind, bt::RunExit::Kind::Stop);
  }
  cpu::Vcpu v_;
  NoMemory mem_;
  NoPorts ports_;
  NoHooks hooks_;
  cpu::Cpu cpu_{v_, mem_, ports_, hooks_};
  TwoPages src_;
};

TEST_F(InlineCacheTest, ASiteReachesItsLastTargetWithoutTheTable) {
  // mov ecx, 10; L: mov eax, T; jmp eax; T: dec ecx; jnz L; nop
  src_.put(kCode,
           {0xB9, 10, 0, 0, 0, 0xB8, 0x0C, 0x00, 0x40, 0x00, 0xFF, 0xE0, 0x49, 0x75, 0xF6, 0x90});
  for (bool on : {false, true}) {
    v_.jc_hits = 0;  // counted in the vCPU, which outlives the engine
    bt::Engine e(cpu_, src_, opt(on));
    run(e, kCode, kCode + 15);
    EXPECT_EQ(v_.gpr[cpu::ECX], 0u);
    const bt::Stats& s = e.stats();
    // 10 indirect jumps from two sites (the first unit's, and the loop's): the first misses
    // everywhere and goes to the dispatcher; the loop's site misses once (the table has T),
    // then finds T in its own slot.
    EXPECT_EQ(s.lookup_misses, 1u);
    EXPECT_EQ(s.inline_sites, on ? 2u : 0u);
    EXPECT_EQ(s.inline_misses, on ? 2u : 0u);
    EXPECT_EQ(s.inline_hits, on ? 8u : 0u);
    EXPECT_EQ(s.lookup_hits, on ? 1u : 9u);
  }
}

TEST_F(InlineCacheTest, AnInvalidatedTargetIsNotReachedFromTheSite) {
  // Page 0: jmp eax. Page 1 (frame 101): T: mov ebx, 1; nop (stop).
  src_.put(kCode, {0xFF, 0xE0});
  src_.put(kCode + 0x1000, {0xBB, 1, 0, 0, 0, 0x90});
  bt::Engine e(cpu_, src_, opt(true));
  v_.gpr[cpu::EAX] = kCode + 0x1000;
  run(e, kCode, kCode + 0x1005);
  run(e, kCode, kCode + 0x1005);  // now from the site's inline cache
  EXPECT_EQ(e.stats().inline_hits, 1u);
  EXPECT_EQ(v_.gpr[cpu::EBX], 1u);
  src_.put(kCode + 0x1000, {0xBB, 2, 0, 0, 0});  // the guest writes T's frame
  ASSERT_EQ(e.invalidate_frame(101), 1u);
  run(e, kCode, kCode + 0x1005);
  EXPECT_EQ(v_.gpr[cpu::EBX], 2u);  // the new code, not the dead unit the slot knew
  EXPECT_EQ(e.stats().inline_hits, 1u);
  EXPECT_EQ(e.stats().inline_misses, 2u);
  run(e, kCode, kCode + 0x1005);  // and the slot leads to the new unit from then on
  EXPECT_EQ(e.stats().inline_hits, 2u);
}

TEST_F(InlineCacheTest, ANewGenerationEmptiesEverySlot) {
  src_.put(kCode, {0xFF, 0xE0});
  src_.put(kCode + 0x1000, {0xBB, 1, 0, 0, 0, 0x90});
  bt::Engine e(cpu_, src_, opt(true));
  v_.gpr[cpu::EAX] = kCode + 0x1000;
  run(e, kCode, kCode + 0x1005);
  e.unlink();  // the guest's mappings changed wholesale (a global TLB flush)
  run(e, kCode, kCode + 0x1005);
  EXPECT_EQ(e.stats().inline_hits, 0u);
  EXPECT_EQ(e.stats().inline_misses, 2u);
  EXPECT_EQ(e.stats().lookup_misses, 2u);  // the table's entry went with the generation too
}

}  // namespace

// An evicted unit's slots serve the sites translated after it: under every policy the slots
// ever made stay about the number of sites the cache holds at once, however often the code is
// made again. (Without reclaiming, FIFO and generational eviction make a slot per site per
// translation: here N x kPasses.)
// mov ecx, passes; L: `blocks` blocks `add ebx, i & 0x7f; mov eax, <next block>; jmp eax` (a
// unit and an inline-cache site each); then dec ecx; jnz L; nop (the stop address, returned).
// EBX ends at passes * `sum`.
static uint32_t indirect_blocks(TwoPages& src, unsigned blocks, uint8_t passes, uint32_t& sum) {
  std::vector<uint8_t> code = {0xB9, passes, 0, 0, 0};
  const uint32_t loop = kCode + 5;
  sum = 0;
  for (unsigned i = 0; i < blocks; ++i) {
    const uint32_t next = loop + (i + 1) * 10;
    code.insert(code.end(), {0x83, 0xC3, uint8_t(i & 0x7f), 0xB8, uint8_t(next), uint8_t(next >> 8),
                             uint8_t(next >> 16), uint8_t(next >> 24), 0xFF, 0xE0});
    sum += i & 0x7f;
  }
  const uint32_t tail = kCode + uint32_t(code.size());
  const int32_t back = int32_t(loop - (tail + 1 + 6));
  code.insert(code.end(), {0x49, 0x0F, 0x85, uint8_t(back), uint8_t(back >> 8), uint8_t(back >> 16),
                           uint8_t(back >> 24), 0x90});
  EXPECT_LE(code.size(), 4096u);
  src.put(kCode, code);
  return tail + 7;
}

TEST_F(InlineCacheTest, EvictedUnitsGiveTheirSlotsToNewSites) {
  constexpr unsigned kBlocks = 400, kPasses = 10;
  uint32_t sum = 0;
  const uint32_t stop = indirect_blocks(src_, kBlocks, kPasses, sum);
  using E = bt::Options::Evict;
  for (E policy : {E::Flush, E::Fifo, E::Generational}) {
    SCOPED_TRACE(int(policy));
    bt::Options o = opt(true);
    o.evict = policy;
    // The smallest caches allowed: a few dozen of these units at a time.
    o.cache_bytes = policy == E::Generational ? 136 * 1024 : 72 * 1024;
    bt::Engine e(cpu_, src_, o);
    v_.gpr[cpu::EBX] = 0;
    run(e, kCode, stop);
    EXPECT_EQ(v_.gpr[cpu::EBX], kPasses * sum);  // every indirect jump reached its own target
    const bt::Stats& s = e.stats();
    ASSERT_GE(s.units, 2u * kBlocks) << "the code must be made again: the cache is too large";
    EXPECT_LE(s.inline_slots, kBlocks / 2);
    EXPECT_LE(s.inline_sites, s.inline_slots);
    if (policy == E::Flush)
      EXPECT_EQ(s.inline_slots_reclaimed, 0u);  // a flush frees every slot at once
    else
      EXPECT_GE(s.inline_slots_reclaimed, uint64_t(kBlocks));
  }
}

// Entry counters (count_entries, and always with generational eviction) of evicted units serve
// the units made later: the memory they hold follows the cache's size, not the units ever made.
TEST_F(InlineCacheTest, EvictedUnitsGiveTheirEntryCountersToNewUnits) {
  constexpr unsigned kBlocks = 400, kPasses = 10;
  uint32_t sum = 0;
  const uint32_t stop = indirect_blocks(src_, kBlocks, kPasses, sum);
  using E = bt::Options::Evict;
  for (E policy : {E::Fifo, E::Generational}) {
    SCOPED_TRACE(int(policy));
    bt::Options o = opt(false);
    o.evict = policy;
    o.count_entries = true;
    o.cache_bytes = policy == E::Generational ? 136 * 1024 : 72 * 1024;
    bt::Engine e(cpu_, src_, o);
    v_.gpr[cpu::EBX] = 0;
    run(e, kCode, stop);
    EXPECT_EQ(v_.gpr[cpu::EBX], kPasses * sum);
    const bt::Stats& s = e.stats();
    ASSERT_GE(s.units, 2u * kBlocks) << "the code must be made again: the cache is too large";
    EXPECT_LE(s.entry_counters, kBlocks / 2) << "one counter per unit ever made";
    EXPECT_GE(s.entry_counters_reused, uint64_t(kBlocks));
    // The counts of evicted units are kept: every block ran kPasses times.
    EXPECT_GE(e.entry_counts(1).unit_entries, uint64_t(kBlocks) * kPasses);
  }
}
