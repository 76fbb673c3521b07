#include "devices/io_bus.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace devices {
namespace {

// Remembers every access it sees and answers reads with port + size.
class Recorder final : public PortDevice {
 public:
  explicit Recorder(const char* name, unsigned width = 1) : name_(name), width_(width) {}
  const char* name() const override { return name_; }
  unsigned access_width() const override { return width_; }
  uint32_t in(uint16_t port, unsigned size) override {
    log.push_back({false, port, size, 0});
    return 0xabcd0000u | size << 8 | uint32_t(port & 0xff);
  }
  void out(uint16_t port, unsigned size, uint32_t value) override {
    log.push_back({true, port, size, value});
  }
  struct Access {
    bool write;
    uint16_t port;
    unsigned size;
    uint32_t value;
    bool operator==(const Access&) const = default;
  };
  std::vector<Access> log;

 private:
  const char* name_;
  unsigned width_;
};

TEST(IoBus, RoutesToTheClaimingDevice) {
  IoBus bus;
  Recorder a("a", 4), b("b", 4);
  bus.attach(0x10, 4, a);
  bus.attach(0x14, 2, b);
  bus.out(0x13, 1, 0x5a);
  bus.out(0x14, 2, 0x1234);
  EXPECT_EQ(bus.in(0x15, 4), 0xabcd0415u);
  ASSERT_EQ(a.log.size(), 1u);
  EXPECT_EQ(a.log[0], (Recorder::Access{true, 0x13, 1, 0x5a}));
  ASSERT_EQ(b.log.size(), 2u);
  EXPECT_EQ(b.log[0], (Recorder::Access{true, 0x14, 2, 0x1234}));
  EXPECT_EQ(b.log[1], (Recorder::Access{false, 0x15, 4, 0}));
}

TEST(IoBus, ReadResultIsTruncatedToTheAccessSize) {
  IoBus bus;
  Recorder a("a", 4);
  bus.attach(0x10, 1, a);
  EXPECT_EQ(bus.in(0x10, 1), 0x10u);
  EXPECT_EQ(bus.in(0x10, 2), 0x0210u);
}

TEST(IoBus, WriteValueIsTruncatedToTheAccessSize) {
  IoBus bus;
  Recorder a("a", 4);
  bus.attach(0x10, 1, a);
  bus.out(0x10, 1, 0x12345678);
  bus.out(0x10, 2, 0x12345678);
  EXPECT_EQ(a.log[0].value, 0x78u);
  EXPECT_EQ(a.log[1].value, 0x5678u);
}

TEST(IoBus, UnclaimedPortsReadAllOnesAndDropWrites) {
  IoBus bus;
  EXPECT_EQ(bus.in(0x1234, 1), 0xffu);
  EXPECT_EQ(bus.in(0x1234, 2), 0xffffu);
  EXPECT_EQ(bus.in(0x1234, 4), 0xffffffffu);
  bus.out(0x1234, 1, 0);
  EXPECT_EQ(bus.stats().ins, 3u);
  EXPECT_EQ(bus.stats().outs, 1u);
  EXPECT_EQ(bus.stats().unclaimed_ins, 3u);
  EXPECT_EQ(bus.stats().unclaimed_outs, 1u);
}

TEST(IoBus, WideAccessToByteDeviceIsSplitLittleEndian) {
  IoBus bus;
  Recorder a("a");  // 8-bit device
  bus.attach(0x70, 2, a);
  EXPECT_EQ(bus.in(0x70, 2), 0x7170u);
  bus.out(0x70, 2, 0xbeef);
  ASSERT_EQ(a.log.size(), 4u);
  EXPECT_EQ(a.log[2], (Recorder::Access{true, 0x70, 1, 0xef}));
  EXPECT_EQ(a.log[3], (Recorder::Access{true, 0x71, 1, 0xbe}));
  // Pieces that fall outside the device are unclaimed: all ones, writes dropped.
  EXPECT_EQ(bus.in(0x70, 4), 0xffff7170u);
  bus.out(0x71, 4, 0x11223344);
  EXPECT_EQ(a.log.back(), (Recorder::Access{true, 0x71, 1, 0x44}));
  EXPECT_EQ(bus.stats().ins, 2u);
  EXPECT_EQ(bus.stats().unclaimed_ins, 2u);
  EXPECT_EQ(bus.stats().unclaimed_outs, 3u);
  EXPECT_EQ(bus.range_stats()[0].ins, 4u);
}

TEST(IoBus, OverlappingRangesAreRejected) {
  IoBus bus;
  Recorder a("a"), b("b");
  bus.attach(0x20, 2, a);
  EXPECT_THROW(bus.attach(0x21, 1, b), std::invalid_argument);
  EXPECT_THROW(bus.attach(0x1f, 2, b), std::invalid_argument);
  EXPECT_THROW(bus.attach(0x10, 0x20, b), std::invalid_argument);
  // A rejected attach claims nothing.
  bus.attach(0x22, 1, b);
  bus.out(0x22, 1, 7);
  EXPECT_EQ(b.log.size(), 1u);
  EXPECT_TRUE(a.log.empty());
}

TEST(IoBus, EmptyOrOverflowingRangesAreRejected) {
  IoBus bus;
  Recorder a("a");
  EXPECT_THROW(bus.attach(0x20, 0, a), std::invalid_argument);
  EXPECT_THROW(bus.attach(0xffff, 2, a), std::invalid_argument);
  bus.attach(0xffff, 1, a);
}

TEST(IoBus, BadAccessSizeIsRejected) {
  IoBus bus;
  EXPECT_THROW(bus.in(0x10, 3), std::invalid_argument);
  EXPECT_THROW(bus.out(0x10, 0, 0), std::invalid_argument);
  EXPECT_THROW(bus.out(0x10, 8, 0), std::invalid_argument);
}

TEST(IoBus, CountsAccessesPerRange) {
  IoBus bus;
  Recorder a("alpha", 4), b("beta", 4);
  bus.attach(0x10, 2, a);
  bus.attach(0x20, 1, b);
  bus.in(0x10, 1);
  bus.in(0x11, 1);
  bus.out(0x20, 1, 0);
  bus.out(0x30, 1, 0);
  const auto r = bus.range_stats();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_STREQ(r[0].name, "alpha");
  EXPECT_EQ(r[0].first, 0x10);
  EXPECT_EQ(r[0].count, 2u);
  EXPECT_EQ(r[0].ins, 2u);
  EXPECT_EQ(r[0].outs, 0u);
  EXPECT_STREQ(r[1].name, "beta");
  EXPECT_EQ(r[1].ins, 0u);
  EXPECT_EQ(r[1].outs, 1u);
  EXPECT_EQ(bus.stats().unclaimed_outs, 1u);
  EXPECT_NE(bus.format_stats().find("alpha"), std::string::npos);
}

TEST(IoBus, OneDeviceMayServeSeveralRanges) {
  IoBus bus;
  Recorder a("a");
  bus.attach(0x20, 2, a);
  bus.attach(0xa0, 2, a);
  bus.out(0xa1, 1, 3);
  EXPECT_EQ(a.log.back(), (Recorder::Access{true, 0xa1, 1, 3}));
}

}  // namespace
}  // namespace devices
