// All phase-1 devices on one bus, wired as the monitor will wire them.
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "devices/devices.h"
#include "fakes.h"

namespace devices {
namespace {

using testing::FakeClock;
using testing::FakeWallClock;
using testing::StringSink;

struct Pc {
  Pc() {
    pic.attach_to(bus);
    bus.attach(Pit8254::kBase, Pit8254::kPortCount, pit);
    bus.attach(SystemPortB::kPort, 1, port_b);
    kbc.attach_to(bus);
    bus.attach(SystemPortA::kPort, 1, port_a);
    bus.attach(CmosRtc::kBase, CmosRtc::kPortCount, cmos);
    bus.attach(Uart16550::kCom1Base, Uart16550::kPortCount, com1);
    bus.attach(DebugExit::kBase, DebugExit::kPortCount, debug_exit);
    bus.attach(PostPort::kPort, 1, post);
  }

  FakeClock clock;
  FakeWallClock wall;
  StringSink console;
  A20Gate a20;
  uint32_t exit_status = 0;
  IoBus bus;
  Pic8259 pic;
  Pit8254 pit{clock, pic};
  SystemPortB port_b{pit};
  I8042 kbc{pic, a20, [] {}};
  SystemPortA port_a{a20, [] {}};
  CmosRtc cmos{wall, 64 << 20};
  Uart16550 com1{console, pic};
  DebugExit debug_exit{[this](uint32_t s) { exit_status = s; }};
  PostPort post;
};

TEST(PcLayout, AllDevicesFitOnOneBus) {
  Pc pc;
  EXPECT_EQ(pc.bus.range_stats().size(), 12u);
}

TEST(PcLayout, SerialInterruptReachesTheCpuThroughThePic) {
  Pc pc;
  const std::pair<uint16_t, uint8_t> pic_init[] = {
      {0x20, 0x11}, {0x21, 0x20}, {0x21, 0x04}, {0x21, 0x01}, {0x21, 0xef},  // only IRQ 4
      {0xa0, 0x11}, {0xa1, 0x28}, {0xa1, 0x02}, {0xa1, 0x01}};
  for (auto [port, value] : pic_init) pc.bus.out(port, 1, value);
  pc.bus.out(0x3f9, 1, 0x01);  // receive interrupt
  EXPECT_FALSE(pc.pic.intr());
  pc.com1.push_input('k');
  EXPECT_TRUE(pc.pic.intr());
  EXPECT_EQ(pc.pic.acknowledge(), 0x24);
  EXPECT_EQ(pc.bus.in(0x3f8, 1), 'k');
  pc.bus.out(0x20, 1, 0x20);
  EXPECT_FALSE(pc.pic.intr());
}

TEST(PcLayout, GuestPrintsAndExits) {
  Pc pc;
  for (char c : std::string("ok 1\n")) pc.bus.out(0x3f8, 1, uint8_t(c));
  pc.bus.out(0xf4, 4, 0);
  EXPECT_EQ(pc.console.text, "ok 1\n");
  EXPECT_EQ(pc.exit_status, 1u);
}

}  // namespace
}  // namespace devices
