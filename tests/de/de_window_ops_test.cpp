// Trimming window batches (hostexec/src/de_window_ops.h): a protection replaced by a later one
// of the same range goes; anything touching the range in between keeps it; the result leaves
// the window as the whole batch would (checked against a page model).
#include "de_window_ops.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <map>
#include <random>
#include <vector>

namespace {

using Op = hostexec::DeProcess::WindowOp;
using K = Op::Kind;

// Page -> (ram offset, prot), or absent: what a batch leaves.
std::map<uint64_t, std::pair<uint64_t, int>> apply(const std::vector<Op>& ops) {
  std::map<uint64_t, std::pair<uint64_t, int>> pages;
  for (const Op& op : ops)
    for (uint64_t a = op.addr; a < op.addr + op.len; a += 0x1000) {
      if (op.kind == K::Map) pages[a] = {op.ram_offset + (a - op.addr), op.prot};
      if (op.kind == K::Unmap) pages.erase(a);
      if (op.kind == K::Protect && pages.count(a)) pages[a].second = op.prot;
    }
  return pages;
}

TEST(DeWindowOps, GiveBackThenParkOfTheSameRunLeavesThePark) {
  std::vector<Op> ops = {{K::Protect, PROT_READ | PROT_WRITE, 0x10000, 0x4000, 0},
                         {K::Map, PROT_READ, 0x80000, 0x1000, 0x5000},
                         {K::Protect, PROT_NONE, 0x10000, 0x4000, 0}};
  hostexec::de::drop_superseded_protects(ops);
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0].kind, K::Map);
  EXPECT_EQ(ops[1].prot, PROT_NONE);
}

TEST(DeWindowOps, AChangeInBetweenKeepsTheEarlierProtect) {
  const std::vector<Op> cases[] = {
      // a map inside the range in between
      {{K::Protect, PROT_READ, 0x10000, 0x4000, 0},
       {K::Map, PROT_READ | PROT_WRITE, 0x11000, 0x1000, 0},
       {K::Protect, PROT_NONE, 0x10000, 0x4000, 0}},
      // the later protect covers a different range
      {{K::Protect, PROT_READ, 0x10000, 0x4000, 0}, {K::Protect, PROT_NONE, 0x10000, 0x2000, 0}},
  };
  for (std::vector<Op> ops : cases) {
    const size_t n = ops.size();
    hostexec::de::drop_superseded_protects(ops);
    EXPECT_EQ(ops.size(), n);
  }
}

TEST(DeWindowOps, RunsOfPagesGoAsOneChange) {
  std::vector<Op> ops = {{K::Map, PROT_READ, 0x10000, 0x1000, 0x7000},
                         {K::Map, PROT_READ, 0x11000, 0x1000, 0x8000},
                         {K::Map, PROT_READ, 0x12000, 0x2000, 0x9000},
                         {K::Map, PROT_READ, 0x14000, 0x1000, 0x20000},  // another frame
                         {K::Map, PROT_READ | PROT_WRITE, 0x15000, 0x1000, 0x21000},
                         {K::Unmap, 0, 0x30000, 0x1000, 0},
                         {K::Unmap, 0, 0x31000, 0x1000, 0}};
  hostexec::de::merge_adjacent(ops);
  ASSERT_EQ(ops.size(), 4u);
  EXPECT_EQ(ops[0].len, 0x4000u);
  EXPECT_EQ(ops[0].ram_offset, 0x7000u);
  EXPECT_EQ(ops[1].ram_offset, 0x20000u);
  EXPECT_EQ(ops[2].prot, PROT_READ | PROT_WRITE);
  EXPECT_EQ(ops[3].len, 0x2000u);
}

TEST(DeWindowOps, RandomBatchesLeaveTheSameWindow) {
  std::mt19937 rng(12);
  for (int round = 0; round < 2000; ++round) {
    std::vector<Op> ops;
    const int n = int(rng() % 40);
    for (int i = 0; i < n; ++i) {
      const uint64_t addr = 0x10000 + (rng() % 16) * 0x1000, len = (1 + rng() % 4) * 0x1000;
      const int prot = int(rng() % 8);
      switch (rng() % 4) {
        case 0:
          ops.push_back({K::Map, prot, addr, len, (rng() % 64) * 0x1000});
          break;
        case 1:
          ops.push_back({K::Unmap, 0, addr, len, 0});
          break;
        default:  // protects of a few recurring runs, as parking makes them
          ops.push_back({K::Protect, prot, 0x10000 + (rng() % 3) * 0x4000, 0x4000, 0});
      }
    }
    std::vector<Op> trimmed = ops;
    hostexec::de::drop_superseded_protects(trimmed);
    ASSERT_EQ(apply(trimmed), apply(ops)) << "round " << round;
    hostexec::de::merge_adjacent(trimmed);
    ASSERT_EQ(apply(trimmed), apply(ops)) << "round " << round << ", merged";
  }
}

}  // namespace
