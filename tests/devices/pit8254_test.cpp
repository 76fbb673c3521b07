#include "devices/pit8254.h"

#include <gtest/gtest.h>

#include "devices/pic8259.h"
#include "devices/system_port_b.h"
#include "fakes.h"

namespace devices {
namespace {

using testing::FakeClock;
using testing::FakeIrqLine;

// The first nanosecond at which `ticks` PIT clocks have elapsed.
uint64_t ticks_ns(uint64_t ticks) {
  return (ticks * 1'000'000'000ull + Pit8254::kFrequencyHz - 1) / Pit8254::kFrequencyHz;
}

class PitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bus.attach(Pit8254::kBase, Pit8254::kPortCount, pit);
    bus.attach(SystemPortB::kPort, 1, port_b);
  }
  void wr(uint16_t port, uint8_t v) { bus.out(port, 1, v); }
  uint8_t rd(uint16_t port) { return uint8_t(bus.in(port, 1)); }
  // Control word then a low/high count; remembers when counting started.
  void program(unsigned channel, uint8_t control, uint16_t count) {
    wr(0x43, control);
    wr(uint16_t(0x40 + channel), uint8_t(count));
    wr(uint16_t(0x40 + channel), uint8_t(count >> 8));
    loaded = clock.ns;
  }
  void at_ticks(uint64_t ticks) { clock.ns = loaded + ticks_ns(ticks); }
  uint16_t read_count_pair(unsigned channel) {
    const uint8_t lo = rd(uint16_t(0x40 + channel));
    return uint16_t(lo | rd(uint16_t(0x40 + channel)) << 8);
  }
  unsigned irq0_edges() const { return irqs.rising_edges[0]; }

  FakeClock clock;
  FakeIrqLine irqs;
  Pit8254 pit{clock, irqs};
  SystemPortB port_b{pit};
  IoBus bus;
  uint64_t loaded = 0;
};

TEST_F(PitTest, UnprogrammedTimerHasNoDeadlineAndNoInterrupts) {
  EXPECT_FALSE(pit.next_deadline_ns());
  clock.ns += 1'000'000'000;
  pit.update();
  EXPECT_EQ(irq0_edges(), 0u);
}

TEST_F(PitTest, Mode2FiresOncePerPeriodAtTheDeadline) {
  program(0, 0x34, 1193);  // Linux's periodic HZ=1000 setup
  ASSERT_TRUE(pit.next_deadline_ns());
  EXPECT_EQ(*pit.next_deadline_ns(), loaded + ticks_ns(1193));
  clock.ns = *pit.next_deadline_ns() - 1;
  pit.update();
  EXPECT_EQ(irq0_edges(), 0u);
  clock.ns += 1;
  pit.update();
  EXPECT_EQ(irq0_edges(), 1u);
  pit.update();
  EXPECT_EQ(irq0_edges(), 1u);  // no second edge for the same period
  EXPECT_EQ(*pit.next_deadline_ns(), loaded + ticks_ns(2 * 1193));
  at_ticks(2 * 1193);
  pit.update();
  EXPECT_EQ(irq0_edges(), 2u);
}

TEST_F(PitTest, MissedPeriodsAreSignalledOneByOne) {
  program(0, 0x34, 1000);
  at_ticks(3 * 1000 + 10);
  EXPECT_EQ(pit.backlog(), 3u);
  EXPECT_EQ(*pit.next_deadline_ns(), loaded + ticks_ns(1000)) << "the first owed edge, past";
  EXPECT_EQ(*pit.next_edge_after_ns(clock.ns), loaded + ticks_ns(4 * 1000));
  for (unsigned n = 1; n <= 3; ++n) {
    EXPECT_TRUE(pit.update());
    EXPECT_EQ(irq0_edges(), n);
  }
  EXPECT_FALSE(pit.update()) << "nothing more is owed";
  EXPECT_EQ(pit.backlog(), 0u);
  EXPECT_EQ(pit.lag().delayed, 2u);
  EXPECT_EQ(pit.lag().merged, 0u);
  EXPECT_EQ(*pit.next_deadline_ns(), loaded + ticks_ns(4 * 1000));
}

TEST_F(PitTest, LagBeyondTheBoundIsMerged) {
  program(0, 0x34, 11932);  // 10 ms
  const uint64_t periods = 3 * Pit8254::kMaxLagNs / 10'000'000;
  at_ticks(periods * 11932 + 5);
  const uint64_t bound = Pit8254::kMaxLagNs / ticks_ns(11932);
  EXPECT_EQ(pit.backlog(), bound);
  EXPECT_EQ(pit.lag().merged, periods - bound);
  EXPECT_TRUE(pit.update());
  EXPECT_EQ(pit.backlog(), bound - 1);
}

TEST_F(PitTest, DiscardPolicyMergesLatePeriodsIntoOneEdge) {
  pit.set_lost_ticks(Pit8254::LostTicks::Discard);
  program(0, 0x34, 1000);
  at_ticks(3 * 1000 + 10);
  EXPECT_TRUE(pit.update());
  EXPECT_FALSE(pit.update()) << "the other two periods were merged";
  EXPECT_EQ(irq0_edges(), 1u);
  EXPECT_EQ(pit.lag().merged, 2u);
  EXPECT_EQ(pit.lag().delayed, 0u);
  EXPECT_GT(*pit.next_deadline_ns(), clock.ns);
}

TEST_F(PitTest, ReprogrammingDropsOwedPeriods) {
  program(0, 0x34, 1000);
  at_ticks(5 * 1000);
  EXPECT_EQ(pit.backlog(), 5u);
  program(0, 0x34, 1000);
  EXPECT_EQ(pit.backlog(), 0u);
}

TEST_F(PitTest, Mode2CountsDownFromTheReloadValue) {
  program(0, 0x34, 1000);
  EXPECT_EQ(read_count_pair(0), 1000);
  at_ticks(300);
  EXPECT_EQ(read_count_pair(0), 700);
  at_ticks(1000 + 1);
  EXPECT_EQ(read_count_pair(0), 999);
}

TEST_F(PitTest, Mode0FiresOnceThenWraps) {
  program(0, 0x30, 100);
  EXPECT_FALSE(pit.output(0));
  at_ticks(99);
  pit.update();
  EXPECT_EQ(irq0_edges(), 0u);
  at_ticks(100);
  pit.update();
  EXPECT_EQ(irq0_edges(), 1u);
  EXPECT_TRUE(pit.output(0));
  EXPECT_FALSE(pit.next_deadline_ns());
  at_ticks(150);
  pit.update();
  EXPECT_EQ(irq0_edges(), 1u);
  EXPECT_EQ(read_count_pair(0), uint16_t(100 - 150));
}

TEST_F(PitTest, Mode0WaitsForTheWholeCount) {
  wr(0x43, 0x30);
  wr(0x40, 10);
  clock.ns += ticks_ns(1000);
  pit.update();
  EXPECT_EQ(irq0_edges(), 0u);  // only the low byte was written
  EXPECT_FALSE(pit.next_deadline_ns());
  wr(0x40, 0);
  loaded = clock.ns;
  EXPECT_EQ(*pit.next_deadline_ns(), loaded + ticks_ns(10));
}

TEST_F(PitTest, Mode4StrobesOneTickAfterTerminalCount) {
  program(0, 0x38, 50);  // Linux's one-shot clockevent mode
  EXPECT_EQ(*pit.next_deadline_ns(), loaded + ticks_ns(51));
  at_ticks(50);
  EXPECT_FALSE(pit.output(0));
  pit.update();
  EXPECT_EQ(irq0_edges(), 0u);
  at_ticks(51);
  EXPECT_TRUE(pit.output(0));
  pit.update();
  EXPECT_EQ(irq0_edges(), 1u);
  EXPECT_FALSE(pit.next_deadline_ns());
}

TEST_F(PitTest, Mode3IsASquareWave) {
  program(0, 0x36, 100);
  at_ticks(10);
  EXPECT_TRUE(pit.output(0));
  EXPECT_EQ(read_count_pair(0), 80);  // counts by two
  at_ticks(60);
  EXPECT_FALSE(pit.output(0));
  pit.update();
  EXPECT_EQ(irq0_edges(), 0u);
  at_ticks(100);
  EXPECT_TRUE(pit.output(0));
  pit.update();
  EXPECT_EQ(irq0_edges(), 1u);
  EXPECT_EQ(*pit.next_deadline_ns(), loaded + ticks_ns(200));
}

TEST_F(PitTest, Modes6And7AliasModes2And3) {
  wr(0x43, 0x3c);  // mode 6
  EXPECT_EQ(pit.state().channels[0].mode, 2);
  wr(0x43, 0x3e);
  EXPECT_EQ(pit.state().channels[0].mode, 3);
}

TEST_F(PitTest, LatchFreezesTheCountUntilBothBytesAreRead) {
  program(0, 0x34, 1000);
  at_ticks(100);
  wr(0x43, 0x00);
  at_ticks(400);
  wr(0x43, 0x00);  // ignored: the first latch is still unread
  EXPECT_EQ(rd(0x40), uint8_t(900));
  at_ticks(500);
  EXPECT_EQ(rd(0x40), 900 >> 8);
  EXPECT_EQ(read_count_pair(0), 500);  // latch consumed: live count again
}

TEST_F(PitTest, ReadBackLatchesStatusThenCount) {
  program(0, 0x34, 1000);
  at_ticks(250);
  wr(0x43, 0xc2);  // read-back: count and status of channel 0
  at_ticks(260);
  EXPECT_EQ(rd(0x40), 0xb4);  // OUT high, null count clear, low/high, mode 2, binary
  EXPECT_EQ(read_count_pair(0), 750);
}

TEST_F(PitTest, ReadBackStatusShowsNullCountBeforeTheCountIsWritten) {
  wr(0x43, 0x30);
  wr(0x43, 0xe2);             // status only
  EXPECT_EQ(rd(0x40), 0x70);  // OUT low (mode 0), null count, low/high, mode 0
}

TEST_F(PitTest, SingleByteAccessModes) {
  wr(0x43, 0x14);  // channel 0, low byte only, mode 2
  wr(0x40, 200);
  loaded = clock.ns;
  EXPECT_EQ(pit.state().channels[0].count, 200);
  at_ticks(50);
  EXPECT_EQ(rd(0x40), 150);
  EXPECT_EQ(rd(0x40), 150);
  wr(0x43, 0x24);  // high byte only
  wr(0x40, 0x02);
  loaded = clock.ns;
  EXPECT_EQ(pit.state().channels[0].count, 0x200);
  at_ticks(1);
  EXPECT_EQ(rd(0x40), 0x01);
}

TEST_F(PitTest, CountZeroMeans65536) {
  program(0, 0x34, 0);
  EXPECT_EQ(*pit.next_deadline_ns(), loaded + ticks_ns(65536));
}

TEST_F(PitTest, BcdCounting) {
  program(0, 0x35, 0x1000);  // BCD 1000
  at_ticks(1);
  EXPECT_EQ(read_count_pair(0), 0x0999);
  EXPECT_EQ(*pit.next_deadline_ns(), loaded + ticks_ns(1000));
}

TEST_F(PitTest, IrqZeroEdgesReachThePic) {
  Pic8259 pic;
  Pit8254 timer(clock, pic);
  pic.out(0x20, 1, 0x11);
  pic.out(0x21, 1, 0x20);
  pic.out(0x21, 1, 0x04);
  pic.out(0x21, 1, 0x01);
  pic.out(0x21, 1, 0x00);
  timer.out(0x43, 1, 0x34);
  timer.out(0x40, 1, 100);
  timer.out(0x40, 1, 0);
  for (int period = 0; period < 3; ++period) {
    clock.ns = *timer.next_deadline_ns();
    EXPECT_FALSE(pic.intr());
    timer.update();
    EXPECT_TRUE(pic.intr());
    EXPECT_EQ(pic.acknowledge(), 0x20);
    pic.out(0x20, 1, 0x20);
  }
  EXPECT_FALSE(pic.intr());
}

TEST_F(PitTest, PortBGatesChannel2AndShowsItsOutput) {
  // As Linux's pit_calibrate_tsc: gate on, speaker off, mode 0 on channel 2.
  wr(0x61, (rd(0x61) & ~0x02) | 0x01);
  program(2, 0xb0, 1000);
  EXPECT_EQ(rd(0x61) & 0x20, 0);
  at_ticks(999);
  EXPECT_EQ(rd(0x61) & 0x20, 0);
  at_ticks(1000);
  EXPECT_EQ(rd(0x61) & 0x20, 0x20);
  EXPECT_EQ(rd(0x61) & 0x0f, 0x01);
  EXPECT_EQ(irq0_edges(), 0u);  // channel 2 has no IRQ
}

TEST_F(PitTest, Mode1WaitsForTheGateToRise) {
  program(2, 0xb2, 100);
  EXPECT_TRUE(pit.output(2));
  at_ticks(500);
  EXPECT_TRUE(pit.output(2));  // no trigger yet: OUT stays high
  wr(0x61, 0x01);
  loaded = clock.ns;
  EXPECT_FALSE(pit.output(2));
  at_ticks(100);
  EXPECT_TRUE(pit.output(2));
}

TEST_F(PitTest, RefreshToggleFollowsTheClock) {
  clock.ns = 0;
  const uint8_t a = rd(0x61) & 0x10;
  clock.ns = SystemPortB::kRefreshPeriodNs;
  const uint8_t b = rd(0x61) & 0x10;
  EXPECT_NE(a, b);
}

TEST_F(PitTest, BadChannelIsRejected) {
  EXPECT_THROW(pit.output(3), std::out_of_range);
  EXPECT_THROW(pit.set_gate(3, true), std::out_of_range);
}

}  // namespace
}  // namespace devices
