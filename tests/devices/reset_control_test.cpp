#include "devices/reset_control.h"

#include <gtest/gtest.h>

namespace devices {
namespace {

struct ResetControlTest : ::testing::Test {
  unsigned resets = 0;
  ResetControl rc{[this] { ++resets; }};
  IoBus bus;
  ResetControlTest() { bus.attach(ResetControl::kBase, ResetControl::kPortCount, rc); }
};

TEST_F(ResetControlTest, RcpuResetsLinuxSequences) {
  // Linux reboot=pci: SRST first (no reset), then SRST|RCPU (0x06 warm, 0x0e cold).
  bus.out(0xcf9, 1, 0x02);
  EXPECT_EQ(resets, 0u);
  EXPECT_EQ(bus.in(0xcf9, 1), 0x02u);
  bus.out(0xcf9, 1, 0x06);
  EXPECT_EQ(resets, 1u);
  bus.out(0xcf9, 1, 0x0e);
  EXPECT_EQ(resets, 2u);
  bus.out(0xcf9, 1, 0x04);  // RCPU alone (soft reset) resets too
  EXPECT_EQ(resets, 3u);
}

TEST_F(ResetControlTest, OnlySrstIsKept) {
  bus.out(0xcf9, 1, 0xfb);  // every bit but RCPU
  EXPECT_EQ(resets, 0u);
  EXPECT_EQ(bus.in(0xcf9, 1), 0x02u);
  bus.out(0xcf9, 1, 0x00);
  EXPECT_EQ(bus.in(0xcf9, 1), 0x00u);
}

TEST_F(ResetControlTest, PciConfigurationAccessesDoNotReachIt) {
  // Linux's PCI type-1 probe: a dword at 0xcf8 is the configuration address, not the RC byte.
  bus.out(0xcf8, 4, 0x80000400u);
  bus.out(0xcf8, 2, 0x0400u);
  bus.out(0xcf9, 2, 0x0404u);
  bus.out(0xcfb, 1, 0x04u);
  EXPECT_EQ(resets, 0u);
  EXPECT_EQ(rc.value(), 0u);
  EXPECT_EQ(bus.in(0xcf8, 4), 0xffffffffu);  // no PCI host bridge: the empty bus
  EXPECT_EQ(bus.in(0xcf8, 1), 0xffu);
  EXPECT_EQ(bus.in(0xcfa, 2), 0xffffu);
}

}  // namespace
}  // namespace devices
