// The MMIO bus: claims, routing with offsets and widths, and unassigned memory as the default.
#include "devices/mmio_bus.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <tuple>
#include <vector>

namespace {

struct Recorder final : devices::MmioDevice {
  const char* name() const override { return "recorder"; }
  uint64_t read(uint64_t off, unsigned width) override {
    log.emplace_back(false, off, width, 0);
    return 0x1122334455667788ull;
  }
  void write(uint64_t off, unsigned width, uint64_t value) override {
    log.emplace_back(true, off, width, value);
  }
  std::vector<std::tuple<bool, uint64_t, unsigned, uint64_t>> log;
};

TEST(MmioBus, UnassignedReadsAllOnesOfEachWidthAndDropsWrites) {
  devices::MmioBus bus;
  EXPECT_EQ(bus.read(0xC0000000, 1), 0xffu);
  EXPECT_EQ(bus.read(0xC0000002, 2), 0xffffu);
  EXPECT_EQ(bus.read(0xC0000004, 4), 0xffffffffu);
  EXPECT_EQ(bus.read(0xC0000008, 8), ~0ull);
  bus.write(0xC0000000, 4, 0);
  EXPECT_EQ(bus.read(0xC0000000, 4), 0xffffffffu);
  EXPECT_EQ(bus.unassigned().reads, 5u);
  EXPECT_EQ(bus.unassigned().writes, 1u);
}

TEST(MmioBus, AClaimedRangeGetsOffsetsWidthsAndMaskedValues) {
  devices::MmioBus bus;
  Recorder dev;
  bus.claim(0xFEE00000, 0x1000, dev);
  EXPECT_TRUE(bus.claimed(0xFEE00FFF));
  EXPECT_FALSE(bus.claimed(0xFEE01000));
  EXPECT_FALSE(bus.claimed(0xFEDFFFFF));
  EXPECT_EQ(bus.read(0xFEE00020, 2), 0x7788u);  // masked to the width
  bus.write(0xFEE000F0, 1, 0x1ff);
  bus.write(0xFEE00008, 8, 0x0102030405060708ull);
  EXPECT_EQ(bus.read(0xFEE01000, 4), 0xffffffffu);  // next page: nothing there
  using E = std::tuple<bool, uint64_t, unsigned, uint64_t>;
  EXPECT_EQ(dev.log, (std::vector<E>{E{false, 0x20, 2, 0}, E{true, 0xF0, 1, 0xff},
                                     E{true, 0x8, 8, 0x0102030405060708ull}}));
  EXPECT_EQ(bus.unassigned().reads, 1u);
  EXPECT_NE(bus.format_stats().find("recorder"), std::string::npos);
}

TEST(MmioBus, ClaimsMustBeWholeDisjointPagesBelow4GiB) {
  devices::MmioBus bus;
  Recorder a, b;
  bus.claim(0xFEC00000, 0x1000, a);
  EXPECT_THROW(bus.claim(0xFEC00000, 0x2000, b), std::invalid_argument);
  EXPECT_THROW(bus.claim(0xFEBFF000, 0x2000, b), std::invalid_argument);
  EXPECT_THROW(bus.claim(0xFEB00010, 0x1000, b), std::invalid_argument);
  EXPECT_THROW(bus.claim(0xFEB00000, 0, b), std::invalid_argument);
  EXPECT_THROW(bus.claim(0xFFFFF000, 0x2000, b), std::invalid_argument);
  bus.claim(0xFEBFF000, 0x1000, b);  // adjacent is fine
  EXPECT_EQ(&bus.device_at(0xFEBFF800), &b);
  EXPECT_EQ(&bus.device_at(0xFEC00800), &a);
  EXPECT_EQ(&bus.device_at(0xFEC01000), &bus.unassigned());
}

TEST(MmioBus, BadWidthsAndPageCrossingAccessesAreRefused) {
  devices::MmioBus bus;
  EXPECT_THROW(bus.read(0x10000000, 3), std::invalid_argument);
  EXPECT_THROW(bus.write(0x10000000, 16, 0), std::invalid_argument);
  EXPECT_THROW(bus.read(0x10000FFE, 4), std::invalid_argument);
}

TEST(MmioBus, StrictModeHearsEveryUnassignedAccessFirst) {
  devices::MmioBus bus;
  std::vector<std::tuple<bool, uint64_t, unsigned>> seen;
  bus.unassigned().on_access = [&](bool w, uint64_t a, unsigned n) { seen.emplace_back(w, a, n); };
  bus.read(0x20000000, 4);
  bus.write(0x20000004, 2, 7);
  using S = std::tuple<bool, uint64_t, unsigned>;
  EXPECT_EQ(seen, (std::vector<S>{S{false, 0x20000000, 4}, S{true, 0x20000004, 2}}));
  // A stop is an exception from the callback: the access is not counted as done.
  bus.unassigned().on_access = [](bool, uint64_t, unsigned) { throw std::runtime_error("stop"); };
  EXPECT_THROW(bus.read(0x20000000, 4), std::runtime_error);
  EXPECT_EQ(bus.unassigned().reads, 1u);
}

}  // namespace
