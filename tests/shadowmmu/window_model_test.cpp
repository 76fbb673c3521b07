// The monitor's model of what one direct-execution process holds: a change it calls redundant
// must change nothing in the process, and after the changes its diff gives the process must hold
// exactly what was asked. Checked against the page model the other window tests replay into
// (page_model.h: every page, including those of multi-page maps), with random change sequences.
#include "shadowmmu/window_model.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <random>
#include <vector>

#include "page_model.h"

namespace {

using shadowmmu::HeldPage;
using shadowmmu::WindowChange;
using shadowmmu::WindowModel;
using Kind = WindowChange::Kind;
using shadowmmu_test::PageModel;
constexpr uint64_t kPage = 4096;

using shadowmmu_test::map;
using shadowmmu_test::protect;
using shadowmmu_test::unmap;

TEST(WindowModel, ChangesThatAlterNothingAreRedundant) {
  WindowModel m;
  EXPECT_TRUE(m.redundant(unmap(5, 1)));  // nothing held
  EXPECT_FALSE(m.redundant(map(5, 1, 9, PROT_READ)));
  m.apply(map(5, 1, 9, PROT_READ));
  EXPECT_TRUE(m.redundant(map(5, 1, 9, PROT_READ)));
  EXPECT_FALSE(m.redundant(map(5, 1, 10, PROT_READ)));              // another frame
  EXPECT_FALSE(m.redundant(map(5, 1, 9, PROT_READ | PROT_WRITE)));  // other rights
  EXPECT_TRUE(m.redundant(protect(5, 1, PROT_READ)));
  EXPECT_FALSE(m.redundant(protect(5, 2, PROT_READ)));  // page 6 is not held: the process fails
  EXPECT_FALSE(m.redundant(protect(7, 1, PROT_READ)));  // ... that protection, as it should
  EXPECT_FALSE(m.redundant(unmap(0, 8)));
  EXPECT_TRUE(m.redundant(unmap(6, 100)));
  EXPECT_EQ(m.pages(), 1u);
}

TEST(WindowModel, AMultiPageMapIsKnownOnlyRoughlyUntilUnmapped) {
  WindowModel m;
  m.apply(map(3, 1, 3, PROT_READ));
  m.apply(map(1, 256, 1, PROT_READ | PROT_WRITE));  // the identity window, paging off
  EXPECT_FALSE(m.exact());
  EXPECT_EQ(m.pages(), 0u);  // page 3 lies inside it
  EXPECT_FALSE(m.redundant(map(3, 1, 3, PROT_READ | PROT_WRITE)));
  EXPECT_FALSE(m.redundant(unmap(300, 1)) && m.redundant(unmap(200, 1)));
  // What a process known roughly must do to hold one page: drop the range, then map it.
  const auto ops = m.diff({HeldPage{0x5000, 0x9000, PROT_READ}});
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0], unmap(1, 256));
  EXPECT_EQ(ops[1].kind, Kind::Map);
  m.apply(unmap(0, 1u << 20));  // the whole window goes
  EXPECT_TRUE(m.exact());
  EXPECT_TRUE(m.redundant(unmap(3, 1)));
}

// A batch failed part way: even when the model holds nothing, the whole-window unmap must go.
TEST(WindowModel, AfterDoubtingAllOnlyAWholeUnmapIsRedundantAgain) {
  WindowModel m;
  m.doubt_all();
  EXPECT_FALSE(m.exact());
  EXPECT_FALSE(m.redundant(unmap(1, 1000)));
  m.apply(unmap(0, (4ull << 30) / 4096));
  EXPECT_TRUE(m.exact());
  EXPECT_TRUE(m.redundant(unmap(1, 1000)));
}

// The process faulted where the model says it holds what was needed (escaped code can unmap
// window pages there): every next change of that page goes to it.
TEST(WindowModel, ADoubtedPageGetsItsNextChange) {
  WindowModel m;
  m.apply(map(5, 1, 9, PROT_READ));
  m.doubt(0x5123);
  EXPECT_FALSE(m.redundant(map(5, 1, 9, PROT_READ)));
  EXPECT_FALSE(m.redundant(protect(5, 1, PROT_READ)));
  EXPECT_FALSE(m.redundant(unmap(5, 1)));
  m.doubt(0x6000);  // not held at all: doubted too
  EXPECT_FALSE(m.redundant(unmap(6, 1)));
  const auto ops = m.diff({HeldPage{0x5000, 0x9000, PROT_READ}});
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0],
            (WindowChange{Kind::Map, PROT_READ, 0x5000, kPage, 0x9000, shadowmmu::Ring3::Allowed}));
  EXPECT_EQ(ops[1], unmap(6, 1));
  m.apply(map(5, 1, 9, PROT_READ));
  EXPECT_TRUE(m.redundant(map(5, 1, 9, PROT_READ)));
}

TEST(WindowModel, TheDiffSendsOnlyWhatDiffers) {
  WindowModel m;
  m.apply(map(1, 1, 1, PROT_READ));
  m.apply(map(2, 1, 2, PROT_READ));
  m.apply(map(3, 1, 3, PROT_READ));
  EXPECT_TRUE(
      m.diff(
           {{0x1000, 0x1000, PROT_READ}, {0x2000, 0x2000, PROT_READ}, {0x3000, 0x3000, PROT_READ}})
          .empty());
  const auto ops = m.diff({{0x2000, 0x7000, PROT_READ},
                           {0x3000, 0x3000, PROT_READ | PROT_EXEC},
                           {0x4000, 0x4000, PROT_READ}});
  ASSERT_EQ(ops.size(), 4u);
  EXPECT_EQ(ops[0], unmap(1, 1));
  EXPECT_EQ(ops[1].kind, Kind::Map);
  EXPECT_EQ(ops[1].ram_offset, 0x7000u);
  EXPECT_EQ(ops[2].kind, Kind::Protect);
  EXPECT_EQ(ops[3].kind, Kind::Map);
  for (const auto& c : ops) {
    EXPECT_TRUE(c.kind == Kind::Unmap || c.ring3 == shadowmmu::Ring3::Allowed);
  }
}

// Random changes applied to both the model and the page model (the process); at random points a
// random target: the diff must take the process exactly there, and no change the model calls
// redundant may alter the process.
TEST(WindowModel, RandomChangesAndDiffsAgreeWithTheProcess) {
  std::mt19937 rng(7);
  auto pick = [&](uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng); };
  const int prots[] = {PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_EXEC};
  constexpr uint32_t kPages = 64;
  WindowModel m;
  PageModel process;
  uint64_t redundant = 0, diffs = 0, rough = 0;
  for (int step = 0; step < 20000; ++step) {
    const uint32_t r = pick(100), page = pick(kPages);
    if (r < 85) {
      WindowChange c = r < 50   ? map(page, 1, pick(kPages), prots[pick(3)])
                       : r < 70 ? unmap(page, 1 + pick(3) * pick(2))
                       : r < 84 ? protect(page, 1, prots[pick(3)])
                                : map(page, 2 + pick(8), pick(kPages), prots[pick(3)]);
      // A protection of pages the process does not hold fails there; the monitor never asks.
      if (c.kind == Kind::Protect && !process.pages.count(c.addr)) continue;
      if (m.redundant(c)) {
        const auto before = process.pages;
        process.apply(c);
        ASSERT_EQ(process.pages, before) << "step " << step << ": a redundant change changed it";
        ++redundant;
        continue;
      }
      process.apply(c);
      m.apply(c);
      rough += !m.exact();
    } else {
      std::vector<HeldPage> want;
      for (uint32_t p = 0; p < kPages; ++p)
        if (pick(3) == 0) want.push_back({p * 4096, pick(kPages) * 4096, prots[pick(3)]});
      const auto ops = m.diff(want);
      for (const auto& c : ops) {
        process.apply(c);
        m.apply(c);
      }
      ASSERT_EQ(process.errors, 0);
      ASSERT_EQ(process.pages.size(), want.size()) << "step " << step;
      for (const HeldPage& w : want)
        ASSERT_EQ(process.pages.at(w.addr), (PageModel::Page{w.ram_offset, w.prot}));
      ASSERT_TRUE(m.exact());
      ASSERT_TRUE(m.diff(want).empty()) << "step " << step;
      ++diffs;
    }
  }
  EXPECT_EQ(process.errors, 0);
  EXPECT_GT(redundant, 1000u);
  EXPECT_GT(diffs, 1000u);
  EXPECT_GT(rough, 100u);
}

}  // namespace
