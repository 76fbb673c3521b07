// The chipset's FERR# latch (IRQ 13) and IGNNE# logic behind port 0xF0.
#include "devices/ferr_latch.h"

#include <gtest/gtest.h>

#include "fakes.h"

namespace devices {
namespace {

TEST(FerrLatch, FerrRaisesIrq13OnceUntilPortF0ClearsIt) {
  testing::FakeIrqLine irq;
  FerrLatch l(irq);
  l.set_ferr(true);
  EXPECT_TRUE(irq.levels[13]);
  EXPECT_EQ(irq.rising_edges[13], 1u);
  l.set_ferr(true);  // still asserted: no new request
  EXPECT_EQ(irq.rising_edges[13], 1u);
  EXPECT_FALSE(l.ignne());
  l.out(FerrLatch::kPort, 1, 0);
  EXPECT_FALSE(irq.levels[13]);
  EXPECT_TRUE(l.ignne());  // FERR# is still asserted
  EXPECT_FALSE(l.state().latched);
  EXPECT_EQ(l.in(FerrLatch::kPort, 1), 0xffu);
}

TEST(FerrLatch, IgnneDropsWithFerrAndANewErrorRequestsAgain) {
  testing::FakeIrqLine irq;
  FerrLatch l(irq);
  l.set_ferr(true);
  l.out(FerrLatch::kPort, 1, 0);
  l.set_ferr(false);  // the error was cleared
  EXPECT_FALSE(l.ignne());
  l.set_ferr(true);
  EXPECT_TRUE(irq.levels[13]);
  EXPECT_EQ(irq.rising_edges[13], 2u);
  EXPECT_EQ(l.state().requests, 2u);
}

TEST(FerrLatch, PortF0WithoutFerrAssertsNoIgnne) {
  testing::FakeIrqLine irq;
  FerrLatch l(irq);
  l.out(FerrLatch::kPort, 1, 0);
  EXPECT_FALSE(l.ignne());
  EXPECT_FALSE(irq.levels[13]);
  // FERR# dropping before the handler's write leaves the request latched until then.
  l.set_ferr(true);
  l.set_ferr(false);
  EXPECT_TRUE(irq.levels[13]);
  l.out(FerrLatch::kPort, 1, 0);
  EXPECT_FALSE(irq.levels[13]);
  EXPECT_FALSE(l.ignne());
}

}  // namespace
}  // namespace devices
