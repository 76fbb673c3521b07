// The guest page walk against the SDM's rules (Vol. 3 §4.3, §4.6, §4.7, §4.8): permissions at
// both levels, CR0.WP, 4 MiB pages, the #PF error code, and A/D updates in guest memory.
#include "shadowmmu/page_walker.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "cpu/vcpu.h"

namespace {

using shadowmmu::Access;
using shadowmmu::Translation;
namespace pf = shadowmmu::pf;

constexpr uint32_t kP = 1, kRW = 2, kUS = 4, kA = 0x20, kD = 0x40, kPS = 0x80, kG = 0x100;
constexpr uint32_t kDir = 0x1000, kTable = 0x2000;

class PageWalkerTest : public ::testing::Test {
 protected:
  PageWalkerTest() : ram_(1u << 20) {}
  uint32_t& at(uint32_t pa) { return *reinterpret_cast<uint32_t*>(ram_.data() + pa); }
  uint32_t& pde(uint32_t linear) { return at(kDir + (linear >> 22) * 4); }
  uint32_t& pte(uint32_t linear) { return at(kTable + ((linear >> 12) & 0x3ff) * 4); }
  // Maps `linear` (in the first 4 MiB) to `phys` with the given bits at both levels.
  void map(uint32_t linear, uint32_t phys, uint32_t pde_bits, uint32_t pte_bits) {
    pde(linear) = kTable | pde_bits;
    pte(linear) = phys | pte_bits;
  }
  std::variant<Translation, uint32_t> walk(uint32_t linear, Access acc, uint32_t cr0 = cpu::cr0::WP,
                                           uint32_t cr4 = 0) {
    return shadowmmu::walk({ram_.data(), ram_.size()}, cr0 | cpu::cr0::PG | cpu::cr0::PE, kDir, cr4,
                           linear, acc);
  }
  static uint32_t error(const std::variant<Translation, uint32_t>& r) {
    return std::holds_alternative<uint32_t>(r) ? std::get<uint32_t>(r) : 0xdead;
  }
  std::vector<uint8_t> ram_;
};

TEST_F(PageWalkerTest, TranslatesAndSetsAccessedThenDirty) {
  map(0x5000, 0x9000, kP | kRW | kUS, kP | kRW | kUS);
  auto r = walk(0x5123, {false, true});
  ASSERT_TRUE(std::holds_alternative<Translation>(r));
  EXPECT_EQ(std::get<Translation>(r).phys, 0x9123u);
  EXPECT_TRUE(pde(0x5000) & kA);
  EXPECT_TRUE(pte(0x5000) & kA);
  EXPECT_FALSE(pte(0x5000) & kD);
  EXPECT_FALSE(std::get<Translation>(r).dirty);
  r = walk(0x5123, {true, true});
  EXPECT_TRUE(pte(0x5000) & kD);
  EXPECT_TRUE(std::get<Translation>(r).dirty);
  EXPECT_FALSE(pde(0x5000) & kD) << "a directory entry has no dirty bit for 4 KiB pages";
}

TEST_F(PageWalkerTest, NotPresentAtEitherLevelGivesErrorCodeWithoutP) {
  EXPECT_EQ(error(walk(0x5000, {false, false})), 0u);
  map(0x5000, 0x9000, kP | kRW | kUS, kRW | kUS);
  EXPECT_EQ(error(walk(0x5000, {true, true})), pf::W | pf::U);
  EXPECT_FALSE(pde(0x5000) & kA) << "a faulting walk changes nothing";
}

TEST_F(PageWalkerTest, UserAccessToSupervisorPageAtEitherLevel) {
  map(0x5000, 0x9000, kP | kRW, kP | kRW | kUS);
  EXPECT_EQ(error(walk(0x5000, {false, true})), pf::P | pf::U);
  map(0x5000, 0x9000, kP | kRW | kUS, kP | kRW);
  EXPECT_EQ(error(walk(0x5000, {true, true})), pf::P | pf::W | pf::U);
  EXPECT_TRUE(std::holds_alternative<Translation>(walk(0x5000, {true, false})));
}

TEST_F(PageWalkerTest, WritesToReadOnlyPagesFollowCr0Wp) {
  map(0x5000, 0x9000, kP | kUS, kP | kRW | kUS);  // read-only at the directory level
  EXPECT_EQ(error(walk(0x5000, {true, true})), pf::P | pf::W | pf::U);
  EXPECT_EQ(error(walk(0x5000, {true, false}, cpu::cr0::WP)), pf::P | pf::W);
  auto r = walk(0x5000, {true, false}, 0);
  ASSERT_TRUE(std::holds_alternative<Translation>(r)) << "WP = 0: supervisor writes pass";
  EXPECT_TRUE(pte(0x5000) & kD);
}

TEST_F(PageWalkerTest, LargePagesNeedPseAndSetDirtyInTheDirectory) {
  pde(0x00800000) = 0x00c00000 | kP | kRW | kUS | kPS;
  auto r = walk(0x00812345, {true, true}, cpu::cr0::WP, cpu::cr4::PSE);
  ASSERT_TRUE(std::holds_alternative<Translation>(r));
  EXPECT_EQ(std::get<Translation>(r).phys, 0x00c12345u);
  EXPECT_TRUE(std::get<Translation>(r).large);
  EXPECT_TRUE(pde(0x00800000) & kA);
  EXPECT_TRUE(pde(0x00800000) & kD);
  // Without PSE the same entry points at a page table (at 0xc00000, past RAM: all ones).
  EXPECT_EQ(std::get<Translation>(walk(0x00812345, {false, false}, cpu::cr0::WP, 0)).phys,
            0xfffff345u);
}

TEST_F(PageWalkerTest, GlobalOnlyWithPge) {
  map(0x5000, 0x9000, kP | kRW, kP | kRW | kG);
  EXPECT_FALSE(std::get<Translation>(walk(0x5000, {false, false})).global);
  EXPECT_TRUE(
      std::get<Translation>(walk(0x5000, {false, false}, cpu::cr0::WP, cpu::cr4::PGE)).global);
}

// A table outside RAM is read from the MMIO bus: all ones where nothing is (as on a PC: a
// present, writable, user, accessed and dirty entry for page 0xfffff000), and a peek, which must
// not touch devices ahead of time, gives up.
struct FakeMmio final : shadowmmu::MmioHandler {
  std::vector<std::pair<uint32_t, unsigned>> reads;
  uint32_t value = 0xffffffff;
  uint64_t read(uint32_t pa, unsigned width) override {
    reads.emplace_back(pa, width);
    return value;
  }
  void write(uint32_t, unsigned, uint64_t) override { ADD_FAILURE() << "no A/D bit to set"; }
};

TEST_F(PageWalkerTest, TablesOutsideRamReadFromTheMmioBus) {
  pde(0x5000) = 0x7ff00000 | kP | kRW;  // a page table far beyond the 1 MiB of RAM
  auto r = walk(0x5123, {false, false});
  ASSERT_TRUE(std::holds_alternative<Translation>(r));
  EXPECT_EQ(std::get<Translation>(r).phys, 0xfffff123u);
  FakeMmio mmio;
  mmio.value = 0x00abc000 | kP | kA | kD;
  const uint32_t cr0 = cpu::cr0::WP | cpu::cr0::PG | cpu::cr0::PE;
  auto t = shadowmmu::walk({ram_.data(), ram_.size(), &mmio}, cr0, kDir, 0, 0x5123, {false, false});
  EXPECT_EQ(std::get<Translation>(t).phys, 0x00abc123u);
  using R = std::pair<uint32_t, unsigned>;
  EXPECT_EQ(mmio.reads, (std::vector<R>{{0x7ff00000 + 5 * 4, 4}}));
  EXPECT_FALSE(
      shadowmmu::peek({ram_.data(), ram_.size(), &mmio}, cr0, kDir, 0, 0x5123, {false, false}));
  EXPECT_EQ(mmio.reads.size(), 1u);
}

TEST_F(PageWalkerTest, ReportsTheEntriesItReadAndWhetherUserMayWrite) {
  map(0x5000, 0x9000, kP | kRW | kUS, kP | kRW | kUS);
  auto t = std::get<Translation>(walk(0x5000, {false, false}));
  EXPECT_EQ(t.pde_pa, kDir);
  EXPECT_EQ(t.pte_pa, kTable + 5 * 4);
  EXPECT_TRUE(t.user_writable);
  pte(0x5000) &= ~kRW;
  EXPECT_FALSE(std::get<Translation>(walk(0x5000, {false, false})).user_writable);
  pde(0x400000) = 0x800000 | kP | kRW | kPS;
  t = std::get<Translation>(walk(0x400000, {false, false}, cpu::cr0::WP, cpu::cr4::PSE));
  EXPECT_EQ(t.pte_pa, Translation::kNoPte);
  EXPECT_FALSE(t.user_writable);
}

TEST_F(PageWalkerTest, PeekChangesNothingAndRefusesWhatWouldSetABit) {
  map(0x5000, 0x9000, kP | kRW | kUS, kP | kRW | kUS);
  auto peek = [&](uint32_t linear, Access acc) {
    return shadowmmu::peek({ram_.data(), ram_.size()}, cpu::cr0::WP | cpu::cr0::PG | cpu::cr0::PE,
                           kDir, 0, linear, acc);
  };
  EXPECT_FALSE(peek(0x5000, {false, false}));  // A clear
  EXPECT_FALSE(pte(0x5000) & kA);
  pde(0x5000) |= kA;
  pte(0x5000) |= kA;
  auto t = peek(0x5004, {false, true});
  ASSERT_TRUE(t);
  EXPECT_EQ(t->phys, 0x9004u);
  EXPECT_FALSE(peek(0x5000, {true, true}));  // D clear
  EXPECT_FALSE(pte(0x5000) & kD);
  pte(0x5000) &= ~kUS;
  EXPECT_FALSE(peek(0x5000, {false, true}));  // would fault
}

TEST_F(PageWalkerTest, InspectTranslatesWithoutTouchingAccessedBits) {
  map(0x5000, 0x9000, kP | kRW, kP);  // supervisor, read-only, A clear at both levels
  auto inspect = [&](uint32_t linear, uint32_t cr4 = 0) {
    return shadowmmu::inspect({ram_.data(), ram_.size()}, cpu::cr0::PG | cpu::cr0::PE, kDir, cr4,
                              linear);
  };
  EXPECT_EQ(inspect(0x5ffe), 0x9ffeu);
  EXPECT_FALSE(pde(0x5000) & kA) << "a report must not change the guest's tables";
  EXPECT_FALSE(pte(0x5000) & kA);
  EXPECT_FALSE(inspect(0x6000)) << "not present";
  pde(0x00800000) = 0x00c00000 | kP | kPS;
  EXPECT_EQ(inspect(0x00812345, cpu::cr4::PSE), 0x00c12345u);
  EXPECT_FALSE(pde(0x00800000) & kA);
}

}  // namespace
