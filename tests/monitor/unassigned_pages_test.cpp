// UnassignedPages: pages of all ones in the window for one instruction, writable only when
// asked, fresh again after clear(), and never reported to the window sink.
#include "unassigned_pages.h"

#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace {

struct Recorder : shadowmmu::WindowSink {
  std::vector<shadowmmu::WindowChange> seen;
  void window_changed(const shadowmmu::WindowChange& c) override { seen.push_back(c); }
};

constexpr uint32_t kHole = 0x20000000;  // past the 1 MiB of RAM below

volatile uint8_t* at(uint32_t linear) {
  return reinterpret_cast<volatile uint8_t*>(uint64_t(linear));
}

// The host's protection of the page at `linear` ("rw-p", "r--p", "---p"), from /proc/self/maps.
std::string prot_of(uint32_t linear) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    uint64_t lo = 0, hi = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%" SCNx64 "-%" SCNx64 " %4s", &lo, &hi, perms) == 3 &&
        linear >= lo && linear < hi)
      return perms;
  }
  return "";
}

TEST(UnassignedPages, ReadsAllOnesAndForgetsWritesAfterClear) {
  shadowmmu::AddressSpace as(1 << 20);
  as.map_identity();
  Recorder rec;
  as.set_window_sink(&rec);
  monitor::UnassignedPages pages(as);
  ASSERT_TRUE(pages.map(kHole + 0x123, true));
  EXPECT_EQ(at(kHole)[0], 0xff);
  EXPECT_EQ(at(kHole)[4095], 0xff);
  at(kHole)[0x10] = 0x12;  // the instruction's write, kept while it runs
  EXPECT_EQ(at(kHole)[0x10], 0x12);
  EXPECT_TRUE(rec.seen.empty()) << "the direct-execution window must not get the page";
  ASSERT_TRUE(pages.clear());
  EXPECT_TRUE(pages.empty());
  ASSERT_TRUE(pages.map(kHole, false));
  EXPECT_EQ(at(kHole)[0x10], 0xff) << "a write must vanish with the page";
  EXPECT_EQ(pages.steps(), 2u);
}

TEST(UnassignedPages, ReadOnlyUntilAWriteIsAllowed) {
  shadowmmu::AddressSpace as(1 << 20);
  as.map_identity();
  monitor::UnassignedPages pages(as);
  ASSERT_TRUE(pages.map(kHole, false));
  EXPECT_EQ(prot_of(kHole), "r--p");
  // Read-only: the same read fault again is not expected (false), a write upgrades it.
  EXPECT_FALSE(pages.map(kHole, false));
  ASSERT_TRUE(pages.map(kHole, true));
  EXPECT_EQ(prot_of(kHole), "rw-p");
  at(kHole)[1] = 0x34;
  EXPECT_EQ(at(kHole)[1], 0x34);
  EXPECT_FALSE(pages.map(kHole, true));
  EXPECT_EQ(pages.steps(), 1u);
}

TEST(UnassignedPages, ClearLeavesNothingMappedAndKeepsAtMostEightPages) {
  shadowmmu::AddressSpace as(1 << 20);
  as.map_identity();
  monitor::UnassignedPages pages(as);
  for (uint32_t i = 0; i < monitor::UnassignedPages::kMaxPages + 2; ++i)
    ASSERT_TRUE(pages.map(kHole + i * 4096, true));
  // The two oldest went (rep instructions move on page by page).
  EXPECT_EQ(prot_of(kHole), "---p");
  EXPECT_EQ(prot_of(kHole + 4096), "---p");
  EXPECT_EQ(at(kHole + 2 * 4096)[0], 0xff);
  ASSERT_TRUE(pages.clear());
  for (uint32_t i = 0; i < monitor::UnassignedPages::kMaxPages + 2; ++i)
    EXPECT_EQ(prot_of(kHole + i * 4096), "---p") << "page " << i;
}

}  // namespace
