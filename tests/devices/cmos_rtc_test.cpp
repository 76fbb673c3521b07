#include "devices/cmos_rtc.h"

#include <gtest/gtest.h>

#include "fakes.h"

namespace devices {
namespace {

using testing::FakeWallClock;

constexpr int64_t k2024_02_29_13_45_07 = 1709214307;  // a Thursday
constexpr uint64_t MiB = 1024 * 1024;

class CmosTest : public ::testing::Test {
 protected:
  void SetUp() override { bus.attach(CmosRtc::kBase, CmosRtc::kPortCount, cmos); }
  uint8_t rd(uint8_t index) {
    bus.out(0x70, 1, index);
    return uint8_t(bus.in(0x71, 1));
  }
  void wr(uint8_t index, uint8_t value) {
    bus.out(0x70, 1, index);
    bus.out(0x71, 1, value);
  }

  FakeWallClock clock{k2024_02_29_13_45_07};
  CmosRtc cmos{clock, 48 * MiB};
  IoBus bus;
};

TEST_F(CmosTest, TimeInBcdByDefault) {
  EXPECT_EQ(rd(0x0b), 0x02);
  EXPECT_EQ(rd(0x00), 0x07);
  EXPECT_EQ(rd(0x02), 0x45);
  EXPECT_EQ(rd(0x04), 0x13);
  EXPECT_EQ(rd(0x06), 0x05);
  EXPECT_EQ(rd(0x07), 0x29);
  EXPECT_EQ(rd(0x08), 0x02);
  EXPECT_EQ(rd(0x09), 0x24);
  EXPECT_EQ(rd(0x32), 0x20);
}

TEST_F(CmosTest, TimeInBinary) {
  wr(0x0b, 0x06);
  EXPECT_EQ(rd(0x00), 7);
  EXPECT_EQ(rd(0x02), 45);
  EXPECT_EQ(rd(0x04), 13);
  EXPECT_EQ(rd(0x07), 29);
  EXPECT_EQ(rd(0x09), 24);
  EXPECT_EQ(rd(0x32), 20);
}

TEST_F(CmosTest, TwelveHourModeMarksPm) {
  wr(0x0b, 0x00);             // 12-hour, BCD
  EXPECT_EQ(rd(0x04), 0x81);  // 1 PM
  wr(0x0b, 0x04);             // 12-hour, binary
  EXPECT_EQ(rd(0x04), 0x81);
  clock.seconds = 1709253000;  // 2024-03-01 00:30:00: midnight hour is 12 AM
  EXPECT_EQ(rd(0x04), 12);
  wr(0x0b, 0x00);
  clock.seconds = k2024_02_29_13_45_07 - 1 * 3600 - 45 * 60;  // 12:00:07, noon
  EXPECT_EQ(rd(0x04), 0x92);
}

TEST_F(CmosTest, TimeFollowsTheWallClock) {
  clock.seconds += 60;
  EXPECT_EQ(rd(0x02), 0x46);
  clock.seconds = 946684799;  // 1999-12-31 23:59:59
  EXPECT_EQ(rd(0x09), 0x99);
  EXPECT_EQ(rd(0x32), 0x19);
  clock.seconds += 1;
  EXPECT_EQ(rd(0x09), 0x00);
  EXPECT_EQ(rd(0x32), 0x20);
  EXPECT_EQ(rd(0x08), 0x01);
}

TEST_F(CmosTest, SettingTheClockWithTheSetBit) {
  wr(0x0b, 0x82);  // SET, 24h, BCD
  clock.seconds += 5;
  EXPECT_EQ(rd(0x00), 0x07);  // frozen while SET
  wr(0x09, 0x31);
  wr(0x08, 0x07);
  wr(0x07, 0x04);
  wr(0x04, 0x00);
  wr(0x02, 0x05);
  wr(0x00, 0x09);
  wr(0x0b, 0x02);
  EXPECT_EQ(cmos.state().offset_seconds, 1940889909 - clock.seconds);
  clock.seconds += 10;
  EXPECT_EQ(rd(0x00), 0x19);
  EXPECT_EQ(rd(0x09), 0x31);
}

TEST_F(CmosTest, InvalidTimeIsIgnored) {
  wr(0x0b, 0x82);
  wr(0x08, 0x13);  // month 13
  wr(0x0b, 0x02);
  EXPECT_EQ(cmos.state().offset_seconds, 0);
  EXPECT_EQ(rd(0x08), 0x02);
}

TEST_F(CmosTest, RegisterCReportsUpdateOnceAndClearsOnRead) {
  EXPECT_EQ(rd(0x0c), 0x00);
  clock.seconds += 1;
  EXPECT_EQ(rd(0x0c), 0x10);
  EXPECT_EQ(rd(0x0c), 0x00);
  wr(0x0b, 0x12);  // UIE: IRQF joins UF
  clock.seconds += 1;
  EXPECT_EQ(rd(0x0c), 0x90);
  EXPECT_EQ(rd(0x0c), 0x00);
}

TEST_F(CmosTest, StatusRegistersAAndD) {
  EXPECT_EQ(rd(0x0a), 0x26);
  EXPECT_EQ(rd(0x0d), 0x80);
  wr(0x0d, 0x00);
  EXPECT_EQ(rd(0x0d), 0x80);
  wr(0x0a, 0xa6);
  EXPECT_EQ(rd(0x0a), 0x26);  // UIP is read-only
}

TEST_F(CmosTest, MemorySizeBytes) {
  EXPECT_EQ(rd(0x15) | rd(0x16) << 8, 640);
  EXPECT_EQ(rd(0x17) | rd(0x18) << 8, 47 * 1024);
  EXPECT_EQ(rd(0x30) | rd(0x31) << 8, 47 * 1024);
  EXPECT_EQ(rd(0x34) | rd(0x35) << 8, (48 - 16) * 16);
}

TEST(CmosMemory, ExtendedSizeSaturatesAndSmallRamHasNoHighBlocks) {
  FakeWallClock clock;
  CmosRtc big(clock, 3072 * MiB);
  const auto byte = [&](CmosRtc& c, uint8_t i) {
    c.out(0x70, 1, i);
    return c.in(0x71, 1);
  };
  EXPECT_EQ(byte(big, 0x17) | byte(big, 0x18) << 8, 0xffffu);
  EXPECT_EQ(byte(big, 0x34) | byte(big, 0x35) << 8, (3072u - 16) * 16);
  CmosRtc small(clock, 8 * MiB);
  EXPECT_EQ(byte(small, 0x17) | byte(small, 0x18) << 8, 7u * 1024);
  EXPECT_EQ(byte(small, 0x34) | byte(small, 0x35) << 8, 0u);
}

TEST_F(CmosTest, NvramReadsBackAndIndexCarriesNmiDisable) {
  bus.out(0x70, 1, 0x80 | 0x40);
  EXPECT_TRUE(cmos.nmi_disabled());
  bus.out(0x71, 1, 0x5a);
  EXPECT_EQ(rd(0x40), 0x5a);
  EXPECT_FALSE(cmos.nmi_disabled());
  wr(0x7f, 0xa5);
  EXPECT_EQ(rd(0x7f), 0xa5);
  wr(0x01, 0x33);  // alarm seconds: plain storage
  EXPECT_EQ(rd(0x01), 0x33);
}

}  // namespace
}  // namespace devices
