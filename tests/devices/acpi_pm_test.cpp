#include "devices/acpi_pm.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "devices/io_bus.h"

namespace devices {
namespace {

class AcpiPmTest : public ::testing::Test {
 protected:
  void SetUp() override { bus.attach(AcpiPm::kPm1aEvtBase, AcpiPm::kPortCount, pm); }
  std::vector<uint8_t> sleeps;
  AcpiPm pm{[this](uint8_t t) { sleeps.push_back(t); }};
  IoBus bus;
  static constexpr uint16_t kSts = AcpiPm::kPm1aEvtBase, kEn = kSts + 2,
                            kCnt = AcpiPm::kPm1aCntBase;
};

TEST_F(AcpiPmTest, StartsInAcpiModeWithNothingPending) {
  EXPECT_EQ(bus.in(kCnt, 2), AcpiPm::kSciEn);
  EXPECT_EQ(bus.in(kSts, 2), 0u);
  EXPECT_EQ(bus.in(kEn, 2), 0u);
}

TEST_F(AcpiPmTest, SlpEnWithS5SleepsOnceInWordAndByteWrites) {
  bus.out(kCnt, 2, (AcpiPm::kSlpTypS5 << AcpiPm::kSlpTypShift));  // type first, as ACPICA does
  EXPECT_TRUE(sleeps.empty());
  bus.out(kCnt, 2, (AcpiPm::kSlpTypS5 << AcpiPm::kSlpTypShift) | AcpiPm::kSlpEn);
  ASSERT_EQ(sleeps.size(), 1u);
  EXPECT_EQ(sleeps[0], AcpiPm::kSlpTypS5);
  // SLP_EN reads as zero; SLP_TYP and SCI_EN stay.
  EXPECT_EQ(bus.in(kCnt, 2), (AcpiPm::kSlpTypS5 << AcpiPm::kSlpTypShift) | AcpiPm::kSciEn);
  bus.out(kCnt + 1, 1, (3 << 2) | (1 << 5));  // high byte alone: SLP_TYP 3, SLP_EN
  ASSERT_EQ(sleeps.size(), 2u);
  EXPECT_EQ(sleeps[1], 3);
}

TEST_F(AcpiPmTest, EnableBitsKeepOnlyDefinedOnesAndStatusIsWriteOneToClear) {
  bus.out(kEn, 2, 0xffff);
  EXPECT_EQ(bus.in(kEn, 2), 0x0721u);
  bus.out(kSts, 2, 0xffff);
  EXPECT_EQ(bus.in(kSts, 2), 0u);
  bus.out(kCnt, 2, 0);  // SCI_EN cannot be cleared: no legacy mode to go back to
  EXPECT_EQ(bus.in(kCnt, 2) & AcpiPm::kSciEn, AcpiPm::kSciEn);
  EXPECT_TRUE(sleeps.empty());
}

class ManualClock final : public Clock {
 public:
  uint64_t now_ns() override { return ns; }
  uint64_t ns = 5'000'000'000;  // not 0: the timer counts from its own power-on
};

class AcpiPmTimerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bus.attach(AcpiPm::kPm1aEvtBase, AcpiPm::kPortCount, pm);
    bus.attach(AcpiPmTimer::kPort, AcpiPmTimer::kLen, timer);
  }
  ManualClock clock;
  AcpiPmTimer timer{clock};
  std::vector<std::string> unsupported;
  AcpiPm pm{[](uint8_t) {}, &timer, [this](const char* w) { unsupported.emplace_back(w); }};
  IoBus bus;
};

TEST_F(AcpiPmTimerTest, CountsAt3579545HzFromPowerOnIn24Bits) {
  EXPECT_EQ(bus.in(AcpiPmTimer::kPort, 4), 0u);
  clock.ns += 1'000'000;  // 1 ms
  EXPECT_EQ(bus.in(AcpiPmTimer::kPort, 4), 3579u);
  clock.ns += 999'000'000;  // 1 s in all
  EXPECT_EQ(bus.in(AcpiPmTimer::kPort, 4), 3579545u);
  EXPECT_EQ(bus.in(AcpiPmTimer::kPort, 1), 3579545u & 0xff);
  EXPECT_EQ(bus.in(AcpiPmTimer::kPort + 1, 1), (3579545u >> 8) & 0xff);
  EXPECT_EQ(bus.in(AcpiPmTimer::kPort, 2), 3579545u & 0xffff);
  clock.ns += 4'000'000'000;  // 5 s: 17897725 ticks, past 2^24
  EXPECT_EQ(bus.in(AcpiPmTimer::kPort, 4), 17897725u & 0xffffff) << "wraps at 24 bits";
  bus.out(AcpiPmTimer::kPort, 4, 0);
  EXPECT_EQ(bus.in(AcpiPmTimer::kPort, 4), 17897725u & 0xffffff) << "read-only";
}

TEST_F(AcpiPmTimerTest, TmrStsSetsWhenBit23TogglesAndClearsByWritingOne) {
  constexpr uint16_t kSts = AcpiPm::kPm1aEvtBase;
  clock.ns += 2'000'000'000;  // 7159090 ticks: bit 23 (8388608) not reached
  EXPECT_EQ(bus.in(kSts, 2) & AcpiPm::kTmrSts, 0u);
  clock.ns += 500'000'000;  // 8948862 ticks
  EXPECT_EQ(bus.in(kSts, 2) & AcpiPm::kTmrSts, AcpiPm::kTmrSts);
  bus.out(kSts, 2, AcpiPm::kTmrSts);
  EXPECT_EQ(bus.in(kSts, 2) & AcpiPm::kTmrSts, 0u) << "cleared";
  clock.ns += 2'000'000'000;  // 16107952 ticks: bit 23 still set
  EXPECT_EQ(bus.in(kSts, 2) & AcpiPm::kTmrSts, 0u);
  clock.ns += 200'000'000;  // 16823861 ticks: past 2^24, bit 23 clear again
  EXPECT_EQ(bus.in(kSts, 2) & AcpiPm::kTmrSts, AcpiPm::kTmrSts);
}

TEST_F(AcpiPmTimerTest, TimerInterruptEnableIsReportedUnsupported) {
  bus.out(AcpiPm::kPm1aEvtBase + 2, 2, 0x0020);  // GBL_EN only
  EXPECT_TRUE(unsupported.empty());
  bus.out(AcpiPm::kPm1aEvtBase + 2, 2, AcpiPm::kTmrEn);
  ASSERT_EQ(unsupported.size(), 1u);
  EXPECT_NE(unsupported[0].find("TMR_EN"), std::string::npos);
}

}  // namespace
}  // namespace devices
