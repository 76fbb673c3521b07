// How guest-physical accesses outside RAM reach a device: split at page boundaries, one access
// per part of width 1/2/4/8, pieces otherwise; all ones and dropped writes without a handler.
#include <gtest/gtest.h>

#include <cstring>
#include <tuple>
#include <vector>

#include "shadowmmu/mmio.h"

namespace {

using Pieces = std::vector<std::pair<uint32_t, unsigned>>;

TEST(MmioSplit, WidthsThatFitAPageAreOneAccess) {
  EXPECT_EQ(shadowmmu::split_access(0x1000, 1), (Pieces{{0x1000, 1}}));
  EXPECT_EQ(shadowmmu::split_access(0x1002, 2), (Pieces{{0x1002, 2}}));
  EXPECT_EQ(shadowmmu::split_access(0x1001, 4), (Pieces{{0x1001, 4}}));  // unaligned: as it is
  EXPECT_EQ(shadowmmu::split_access(0x1ff8, 8), (Pieces{{0x1ff8, 8}}));
}

TEST(MmioSplit, PageBoundariesSplitAndOddLengthsArePieces) {
  EXPECT_EQ(shadowmmu::split_access(0x1ffe, 4), (Pieces{{0x1ffe, 2}, {0x2000, 2}}));
  EXPECT_EQ(shadowmmu::split_access(0x1fff, 4), (Pieces{{0x1fff, 1}, {0x2000, 2}, {0x2002, 1}}));
  EXPECT_EQ(shadowmmu::split_access(0x1ffd, 8),
            (Pieces{{0x1ffd, 2}, {0x1fff, 1}, {0x2000, 4}, {0x2004, 1}}));
  EXPECT_EQ(shadowmmu::split_access(0x3000, 6), (Pieces{{0x3000, 4}, {0x3004, 2}}));
  EXPECT_EQ(shadowmmu::split_access(0xfffffffe, 2), (Pieces{{0xfffffffe, 2}}));
}

struct Reg final : shadowmmu::MmioHandler {
  std::vector<std::tuple<bool, uint32_t, unsigned, uint64_t>> log;
  uint64_t read(uint32_t pa, unsigned w) override {
    log.emplace_back(false, pa, w, 0);
    return 0x8877665544332211ull;
  }
  void write(uint32_t pa, unsigned w, uint64_t v) override { log.emplace_back(true, pa, w, v); }
};

TEST(MmioSplit, BuffersGoThroughTheHandlerLittleEndian) {
  Reg r;
  uint8_t buf[8] = {};
  shadowmmu::mmio_read(&r, 0x1ffe, buf, 4);
  EXPECT_EQ(buf[0], 0x11);
  EXPECT_EQ(buf[1], 0x22);
  EXPECT_EQ(buf[2], 0x11);  // the second page's piece starts again at the low byte
  const uint8_t out[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  shadowmmu::mmio_write(&r, 0x5000, out, 8);
  using E = std::tuple<bool, uint32_t, unsigned, uint64_t>;
  EXPECT_EQ(r.log, (std::vector<E>{E{false, 0x1ffe, 2, 0}, E{false, 0x2000, 2, 0},
                                   E{true, 0x5000, 8, 0x0807060504030201ull}}));
}

TEST(MmioSplit, NoHandlerReadsAllOnes) {
  uint8_t buf[5];
  std::memset(buf, 0, sizeof buf);
  shadowmmu::mmio_read(nullptr, 0x7000, buf, 5);
  for (uint8_t b : buf) EXPECT_EQ(b, 0xff);
  shadowmmu::mmio_write(nullptr, 0x7000, buf, 5);  // dropped, no crash
}

}  // namespace
