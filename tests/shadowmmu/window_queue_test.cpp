// The window sink and its queue: replaying what the queue hands out must rebuild the monitor's
// window exactly (the confined direct-execution process keeps its copy that way). Checked
// against a page model with random change sequences, and against the host's own mappings
// (/proc/self/maps) while AddressSpace and Shadow work on a real window.
#include "shadowmmu/window_queue.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include "page_model.h"
#include "shadowmmu/shadow.h"

namespace {

using shadowmmu::WindowChange;
using Kind = WindowChange::Kind;
constexpr uint64_t kPage = 4096;

using shadowmmu_test::PageModel;

using shadowmmu_test::map;
using shadowmmu_test::protect;
using shadowmmu_test::unmap;

TEST(WindowQueue, LaterChangesOfOnePageAbsorbEarlierOnes) {
  shadowmmu::WindowQueue q;
  q.window_changed(map(5, 1, 9, PROT_READ));
  q.window_changed(map(6, 1, 10, PROT_READ));
  q.window_changed(protect(5, 1, PROT_READ | PROT_WRITE));
  q.window_changed(unmap(6, 1));
  q.window_changed(map(6, 1, 11, PROT_READ | PROT_EXEC));
  const auto ops = q.take();
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0], map(5, 1, 9, PROT_READ | PROT_WRITE));
  EXPECT_EQ(ops[1], map(6, 1, 11, PROT_READ | PROT_EXEC));
  EXPECT_TRUE(q.empty());
}

// A multi-page change is a barrier: a single-page change after it must stay after it.
TEST(WindowQueue, MultiPageChangesKeepTheirPlace) {
  shadowmmu::WindowQueue q;
  q.window_changed(map(5, 1, 9, PROT_READ));
  q.window_changed(protect(4, 3, PROT_NONE));
  q.window_changed(protect(5, 1, PROT_READ));
  const auto ops = q.take();
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(ops[2], protect(5, 1, PROT_READ));
}

// A protection after an unmap is not folded into it: the process must see it fail.
TEST(WindowQueue, ProtectionAfterUnmapStays) {
  shadowmmu::WindowQueue q;
  q.window_changed(unmap(5, 1));
  q.window_changed(protect(5, 1, PROT_READ));
  PageModel m;
  m.apply(q.take());
  EXPECT_EQ(m.errors, 1);
}

TEST(WindowQueue, AWholeWindowDropReplacesEverythingQueued) {
  shadowmmu::WindowQueue q;
  for (uint64_t p = 1; p < 100; ++p) q.window_changed(map(p, 1, p, PROT_READ));
  q.window_changed(protect(1, 50, PROT_NONE));
  q.window_changed(unmap(0, 1u << 20));
  const auto ops = q.take();
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(ops[0], unmap(0, 1u << 20));
}

TEST(WindowQueue, AsksForAResyncWhenItGrowsTooLong) {
  shadowmmu::WindowQueue q;
  for (uint64_t i = 0; i < shadowmmu::WindowQueue::kResyncAt; ++i)
    q.window_changed(protect(i % 4, 2, PROT_READ));  // barriers: nothing to absorb
  EXPECT_TRUE(q.needs_resync());
  q.window_changed(unmap(0, 1u << 20));
  EXPECT_FALSE(q.needs_resync());
  EXPECT_EQ(q.size(), 1u);
}

// Random sequences of the changes AddressSpace makes (protections only of mapped pages, as
// the shadow does), taken at random points: replaying the queue gives the same pages as
// applying every change, and the queue stays bounded by the pages touched plus barriers.
TEST(WindowQueue, ReplayEqualsTheChangesThemselves) {
  std::mt19937 rng(12);
  for (int round = 0; round < 200; ++round) {
    shadowmmu::WindowQueue q;
    PageModel direct, replayed;
    size_t barriers = 0;
    for (int step = 0; step < 300; ++step) {
      const uint64_t page = rng() % 32, n = rng() % 4 == 0 ? 1 + rng() % 6 : 1;
      const int prot = int(rng() % 8);
      WindowChange c;
      switch (rng() % 5) {
        case 0:
        case 1:
          c = map(page, n, rng() % 64, prot);
          break;
        case 2: {
          bool all_mapped = true;
          for (uint64_t p = page; p < page + n; ++p)
            all_mapped &= direct.pages.count(p * kPage) != 0;
          if (!all_mapped) continue;
          c = protect(page, n, prot);
          break;
        }
        case 3:
          c = unmap(page, n);
          break;
        default:
          c = rng() % 8 ? map(page, 1, rng() % 64, prot) : unmap(0, 64);
          break;
      }
      direct.apply(c);
      q.window_changed(c);
      barriers += c.len > kPage;
      if (rng() % 40 == 0) {
        replayed.apply(q.take());
        barriers = 0;
        ASSERT_EQ(replayed.pages, direct.pages) << "round " << round << " step " << step;
      }
      ASSERT_LE(q.size(), 32 * (barriers + 1));
    }
    replayed.apply(q.take());
    ASSERT_EQ(replayed.pages, direct.pages) << "round " << round;
    ASSERT_EQ(replayed.errors, 0);
  }
}

// Single-page changes only: one queued change per page, however many were made.
TEST(WindowQueue, StaysAsLongAsThePagesTouched) {
  std::mt19937 rng(7);
  shadowmmu::WindowQueue q;
  PageModel direct, replayed;
  for (int step = 0; step < 20000; ++step) {
    const uint64_t page = rng() % 32;
    const int prot = int(rng() % 8);
    WindowChange c = rng() % 3 == 0 ? unmap(page, 1) : map(page, 1, rng() % 64, prot);
    if (rng() % 3 == 0 && direct.pages.count(page * kPage)) c = protect(page, 1, prot);
    direct.apply(c);
    q.window_changed(c);
  }
  EXPECT_LE(q.size(), 32u);
  replayed.apply(q.take());
  EXPECT_EQ(replayed.pages, direct.pages);
}

// The monitor's window as the host has it: every page of guest RAM mapped into [0, 4 GiB),
// with its RAM offset and protection. Anything else there must be the inaccessible
// reservation.
std::map<uint64_t, PageModel::Page> host_window() {
  std::map<uint64_t, PageModel::Page> pages;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long lo, hi, off;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s %lx", &lo, &hi, perms, &off) != 4) continue;
    if (lo >= (4ull << 30)) continue;
    if (line.find("bt86-ram") == std::string::npos) {
      EXPECT_EQ(std::string(perms), "---p") << line;
      continue;
    }
    const int prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
                     (perms[2] == 'x' ? PROT_EXEC : 0);
    for (unsigned long a = lo; a < hi; a += kPage) pages[a] = {off + (a - lo), prot};
  }
  return pages;
}

// Replays the queue onto `m`, then compares with the host's mappings (PROT_NONE pages, the
// shadow's parked supervisor mappings, count as mapped in both).
void expect_replay_matches(shadowmmu::WindowQueue& q, PageModel& m, const char* when) {
  m.apply(q.take());
  EXPECT_EQ(m.errors, 0) << when;
  EXPECT_EQ(m.pages, host_window()) << when;
}

class WindowSinkTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kP = 1, kRW = 2, kUS = 4, kA = 0x20, kD = 0x40;
  static constexpr uint32_t kDir = 0x1000, kTable = 0x2000, kLinear = 0x40000000;
  WindowSinkTest() : as_(1u << 20) { as_.set_window_sink(&q_); }
  void set(uint32_t pa, uint32_t v) { std::memcpy(as_.phys(pa, 4), &v, 4); }
  shadowmmu::WindowQueue q_;
  shadowmmu::AddressSpace as_;
  PageModel stub_;
};

TEST_F(WindowSinkTest, IdentityWindowAndItsProtections) {
  as_.map_identity();
  expect_replay_matches(q_, stub_, "identity");
  as_.set_page_flag(0x5000, shadowmmu::AddressSpace::kDirect, true);
  as_.apply_identity_prot(0x5000);
  as_.set_page_flag(0x7000, shadowmmu::AddressSpace::kTraced, true);
  as_.apply_identity_prot(0x7000);
  expect_replay_matches(q_, stub_, "code pages");
  as_.set_page_flag(0x5000, shadowmmu::AddressSpace::kDirect, false);
  as_.apply_identity_prot(0x5000);
  as_.unmap_window();
  as_.map_identity();  // flags come back with it
  expect_replay_matches(q_, stub_, "identity again");
}

// The shadow fills, parks supervisor pages on entry to ring 3, switches CR3 and drops: after
// each, the replayed copy is the host's window.
TEST_F(WindowSinkTest, ShadowChangesReplayExactly) {
  cpu::Vcpu v;
  shadowmmu::Shadow shadow(as_, v);
  as_.map_identity();
  v.cr0 = cpu::cr0::PE | cpu::cr0::PG | cpu::cr0::WP;
  v.cr3 = kDir;
  shadow.reset();
  set(kDir + (kLinear >> 22) * 4, kTable | kP | kRW | kUS | kA);
  for (uint32_t i = 0; i < 24; ++i)  // user pages, then supervisor pages; every third dirty
    set(kTable + i * 4,
        (0x10000 + i * kPage) | kP | kRW | kA | (i < 12 ? kUS : 0) | (i % 3 == 0 ? kD : 0));
  expect_replay_matches(q_, stub_, "reset");
  for (uint32_t i = 0; i < 24; ++i)
    ASSERT_EQ(shadow.fill(kLinear + i * kPage, false, i < 12).outcome,
              shadowmmu::Shadow::Outcome::Mapped);
  expect_replay_matches(q_, stub_, "fills");
  shadow.entering_user();
  expect_replay_matches(q_, stub_, "parked");
  ASSERT_EQ(shadow.fill(kLinear + 20 * kPage, false, false).outcome,
            shadowmmu::Shadow::Outcome::Mapped);  // ring 0 refills a parked page
  shadow.invlpg(kLinear + 3 * kPage);
  expect_replay_matches(q_, stub_, "refilled, invlpg");
  v.cr3 = 0x5000;  // an empty directory
  shadow.cr3_written(kDir);
  expect_replay_matches(q_, stub_, "cr3 away");
  const uint32_t away = v.cr3;
  v.cr3 = kDir;
  shadow.cr3_written(away);  // recent mappings come back
  expect_replay_matches(q_, stub_, "cr3 back");
  shadow.drop_all();
  expect_replay_matches(q_, stub_, "drop_all");
}

}  // namespace
