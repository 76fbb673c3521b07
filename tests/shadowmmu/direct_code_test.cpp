// Which pages may run directly: the scan for cpuid, the write-back to unscanned, and the cases
// left to the translator for good.
#include "shadowmmu/direct_code.h"

#include <gtest/gtest.h>

#include <cstring>

namespace {

using State = shadowmmu::DirectCode::State;

class DirectCodeTest : public ::testing::Test {
 protected:
  DirectCodeTest() : as_(1u << 20) { as_.map_identity(); }
  void put(uint32_t pa, std::initializer_list<uint8_t> bytes) {
    std::memcpy(as_.phys(pa, bytes.size()), bytes.begin(), bytes.size());
  }
  shadowmmu::AddressSpace as_;
};

TEST_F(DirectCodeTest, PageWithoutCpuidBecomesDirect) {
  shadowmmu::DirectCode dc(as_, false);
  put(0x10000, {0x90, 0x0f, 0x0b, 0xa2});  // nop; ud2; a stray A2 not after 0F
  EXPECT_EQ(dc.state(0x10010), State::Unscanned);
  EXPECT_EQ(dc.on_fetch(0x10010), State::Direct);
  EXPECT_EQ(dc.state(0x10fff), State::Direct);
  EXPECT_EQ(dc.stats().cleared, 1u);
}

TEST_F(DirectCodeTest, CpuidKeepsThePageWithTheTranslator) {
  shadowmmu::DirectCode dc(as_, false);
  put(0x10800, {0x0f, 0xa2});
  EXPECT_EQ(dc.on_fetch(0x10000), State::Translate);
  EXPECT_EQ(dc.stats().cpuid_pages, 1u);
}

TEST_F(DirectCodeTest, CpuidAcrossAPageEdgeCountsForBothPages) {
  shadowmmu::DirectCode dc(as_, false);
  put(0x10fff, {0x0f, 0xa2});
  EXPECT_EQ(dc.on_fetch(0x10000), State::Translate);
  EXPECT_EQ(dc.on_fetch(0x11000), State::Translate);
  EXPECT_EQ(dc.on_fetch(0x12000), State::Direct);
}

// lar/lsl/verr/verw would answer from the host's descriptor tables at CPL 3.
TEST_F(DirectCodeTest, SelectorQueriesKeepThePageWithTheTranslator) {
  shadowmmu::DirectCode dc(as_, true);
  put(0x10800, {0x0f, 0x02, 0xc1});        // lar eax, ecx
  put(0x11800, {0x0f, 0x03, 0x15});        // lsl edx, [disp32]
  put(0x12800, {0x0f, 0x00, 0xe1});        // verr cx
  put(0x13800, {0x0f, 0x00, 0x2d});        // verw [disp32]
  put(0x14800, {0x0f, 0x00, 0xd8, 0x90});  // ltr ax (/3): traps by itself
  put(0x15ffe, {0x0f, 0x00});              // verw across the page edge
  put(0x16000, {0x2d});
  for (uint32_t page : {0x10000u, 0x11000u, 0x12000u, 0x13000u, 0x15000u, 0x16000u})
    EXPECT_EQ(dc.on_fetch(page), State::Translate) << std::hex << page;
  EXPECT_EQ(dc.on_fetch(0x14000), State::Direct);
  EXPECT_EQ(dc.stats().selector_query_pages, 6u);
}

TEST_F(DirectCodeTest, HostsWhereCpuidTrapsNeedNoScanForIt) {
  shadowmmu::DirectCode dc(as_, true);
  put(0x10800, {0x0f, 0xa2});
  EXPECT_EQ(dc.on_fetch(0x10000), State::Direct);
}

TEST_F(DirectCodeTest, AWriteMakesThePageUnscannedUntilItFlipsTooOften) {
  shadowmmu::DirectCode dc(as_, false);
  for (int i = 0; i < 7; ++i) {
    ASSERT_EQ(dc.on_fetch(0x10000), State::Direct);
    EXPECT_TRUE(dc.on_write(0x10040, 0x20000));
    EXPECT_EQ(dc.state(0x10000), State::Unscanned);
  }
  ASSERT_EQ(dc.on_fetch(0x10000), State::Direct);
  EXPECT_TRUE(dc.on_write(0x10040, 0x20000));
  EXPECT_EQ(dc.state(0x10000), State::Translate);
  EXPECT_EQ(dc.stats().flip_limited, 1u);
  EXPECT_FALSE(dc.on_write(0x10040, 0x20000)) << "not executable any more";
}

TEST_F(DirectCodeTest, CodeWritingItsOwnPageGoesToTheTranslatorAtOnce) {
  shadowmmu::DirectCode dc(as_, false);
  ASSERT_EQ(dc.on_fetch(0x10000), State::Direct);
  EXPECT_TRUE(dc.on_write(0x10040, 0x10010));
  EXPECT_EQ(dc.state(0x10000), State::Translate);
  EXPECT_EQ(dc.stats().self_writers, 1u);
}

TEST_F(DirectCodeTest, MonitorWritesRevokeOnlyExecutablePages) {
  shadowmmu::DirectCode dc(as_, false);
  ASSERT_EQ(dc.on_fetch(0x11000), State::Direct);
  dc.note_write(0x10ffe, 4);  // spans pages 0x10 (unscanned) and 0x11 (direct)
  EXPECT_EQ(dc.state(0x10000), State::Unscanned);
  EXPECT_EQ(dc.state(0x11000), State::Unscanned);
  EXPECT_EQ(dc.stats().reverts, 1u);
}

TEST_F(DirectCodeTest, AddressesBeyondRamAreNeverDirect) {
  shadowmmu::DirectCode dc(as_, false);
  EXPECT_EQ(dc.state(2u << 20), State::Translate);
  EXPECT_EQ(dc.on_fetch(2u << 20), State::Translate);
  EXPECT_FALSE(dc.on_write(2u << 20, 0));
}

// wrpkru and xrstor would let guest code change the host's protection-key rights (PKRU), which
// the host kernel then uses to write signal frames; syscall and sysenter enter the host kernel
// on some CPUs, which loses the return address. The translator gives what the model defines. Even
// where the host makes cpuid trap, such pages are never direct.
TEST_F(DirectCodeTest, HostStateInstructionsKeepThePageWithTheTranslator) {
  shadowmmu::DirectCode dc(as_, true);
  put(0x10800, {0x0f, 0x01, 0xef});  // wrpkru
  put(0x11ffe, {0x0f, 0xae});        // xrstor [eax], across a page edge
  put(0x12000, {0x28});
  put(0x13800, {0x0f, 0xae, 0xe8});              // lfence (0F AE /5 with a register): harmless
  put(0x14800, {0x0f, 0xae, 0x6c, 0x24, 0x10});  // xrstor [esp+0x10]
  put(0x15800, {0x0f, 0x05});                    // syscall
  put(0x16fff, {0x0f, 0x34});                    // sysenter, across a page edge
  EXPECT_EQ(dc.on_fetch(0x10000), State::Translate);
  EXPECT_EQ(dc.on_fetch(0x11000), State::Translate);
  EXPECT_EQ(dc.on_fetch(0x12000), State::Translate);
  EXPECT_EQ(dc.on_fetch(0x13000), State::Direct);
  EXPECT_EQ(dc.on_fetch(0x14000), State::Translate);
  EXPECT_EQ(dc.on_fetch(0x15000), State::Translate);
  EXPECT_EQ(dc.on_fetch(0x16000), State::Translate);
  EXPECT_EQ(dc.on_fetch(0x17000), State::Translate);
  EXPECT_EQ(dc.stats().host_state_pages, 7u);
}

}  // namespace
