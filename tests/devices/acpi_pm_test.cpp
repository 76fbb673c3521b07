#include "devices/acpi_pm.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace devices
