#include "devices/i8042.h"

#include <gtest/gtest.h>

#include <vector>

#include "devices/system_port_a.h"
#include "fakes.h"

namespace devices {
namespace {

using testing::FakeIrqLine;

class I8042Test : public ::testing::Test {
 protected:
  void SetUp() override {
    kbc.attach_to(bus);
    bus.attach(SystemPortA::kPort, 1, port_a);
    a20.set_callback([this](bool on) { a20_changes.push_back(on); });
  }
  uint8_t status() { return uint8_t(bus.in(0x64, 1)); }
  uint8_t data() { return uint8_t(bus.in(0x60, 1)); }
  void command(uint8_t c) { bus.out(0x64, 1, c); }
  void write_data(uint8_t v) { bus.out(0x60, 1, v); }
  // A command with a one-byte reply, polled as Linux's i8042_command does.
  uint8_t query(uint8_t c) {
    command(c);
    EXPECT_TRUE(status() & 0x01) << "no reply to command " << int(c);
    return data();
  }

  FakeIrqLine irqs;
  A20Gate a20;
  unsigned resets = 0;
  std::vector<bool> a20_changes;
  I8042 kbc{irqs, a20, [this] { ++resets; }};
  SystemPortA port_a{a20, [this] { ++resets; }};
  IoBus bus;
};

TEST_F(I8042Test, StatusAfterReset) {
  const uint8_t s = status();
  EXPECT_EQ(s & 0x01, 0);     // nothing to read
  EXPECT_EQ(s & 0x02, 0);     // ready for input
  EXPECT_EQ(s & 0x04, 0x04);  // system flag: self-test passed
}

TEST_F(I8042Test, SelfTestAndInterfaceTests) {
  EXPECT_EQ(query(0xaa), 0x55);
  EXPECT_EQ(query(0xab), 0x00);
  EXPECT_EQ(query(0xa9), 0x00);
  EXPECT_EQ(status() & 0x01, 0);
}

TEST_F(I8042Test, StatusTracksWhetherTheLastWriteWasACommand) {
  command(0xad);
  EXPECT_EQ(status() & 0x08, 0x08);
  write_data(0xf4);
  EXPECT_EQ(status() & 0x08, 0x00);
}

TEST_F(I8042Test, CommandByteReadAndWrite) {
  EXPECT_EQ(query(0x20), 0x45);
  command(0x60);
  write_data(0x74);
  EXPECT_EQ(query(0x20), 0x74);
  EXPECT_EQ(status() & 0x04, 0x04);
  command(0x60);
  write_data(0x00);
  EXPECT_EQ(status() & 0x04, 0x00);  // the system flag is the command byte's bit 2
}

TEST_F(I8042Test, DisableAndEnableKeyboardAndAux) {
  command(0xad);
  command(0xa7);
  EXPECT_EQ(query(0x20) & 0x30, 0x30);
  command(0xae);
  EXPECT_EQ(query(0x20) & 0x30, 0x20);
  command(0xa8);
  EXPECT_EQ(query(0x20) & 0x30, 0x00);
}

TEST_F(I8042Test, A20ThroughTheOutputPort) {
  EXPECT_TRUE(a20.enabled());
  EXPECT_EQ(query(0xd0) & 0x03, 0x03);
  command(0xd1);
  write_data(0xdd);  // A20 off, reset line high
  EXPECT_FALSE(a20.enabled());
  EXPECT_EQ(query(0xd0) & 0x03, 0x01);
  command(0xd1);
  write_data(0xdf);  // the classic A20 enable
  EXPECT_TRUE(a20.enabled());
  EXPECT_EQ(a20_changes, (std::vector<bool>{false, true}));
  EXPECT_EQ(resets, 0u);
}

TEST_F(I8042Test, A20ThroughPort92) {
  EXPECT_EQ(bus.in(0x92, 1) & 0x02, 0x02);
  bus.out(0x92, 1, 0x00);
  EXPECT_FALSE(a20.enabled());
  EXPECT_EQ(bus.in(0x92, 1) & 0x02, 0x00);
  EXPECT_EQ(query(0xd0) & 0x02, 0x00);  // both read the one line
  bus.out(0x92, 1, bus.in(0x92, 1) | 0x02);
  EXPECT_TRUE(a20.enabled());
  EXPECT_EQ(a20_changes, (std::vector<bool>{false, true}));
  EXPECT_EQ(resets, 0u);
}

TEST_F(I8042Test, A20EnableDisableCommands) {
  command(0xdd);
  EXPECT_FALSE(a20.enabled());
  command(0xdf);
  EXPECT_TRUE(a20.enabled());
}

TEST_F(I8042Test, PulseResetLineCallsTheResetCallback) {
  command(0xff);  // pulses nothing
  EXPECT_EQ(resets, 0u);
  command(0xfe);
  EXPECT_EQ(resets, 1u);
}

TEST_F(I8042Test, OutputPortBit0LowResets) {
  command(0xd1);
  write_data(0x02);
  EXPECT_EQ(resets, 1u);
}

TEST_F(I8042Test, Port92Bit0RisingEdgeResets) {
  bus.out(0x92, 1, 0x03);
  EXPECT_EQ(resets, 1u);
  bus.out(0x92, 1, 0x03);  // still set: no new reset
  EXPECT_EQ(resets, 1u);
  bus.out(0x92, 1, 0x02);
  bus.out(0x92, 1, 0x03);
  EXPECT_EQ(resets, 2u);
}

TEST_F(I8042Test, KeyboardResetAnswersAckThenSelfTestPassed) {
  write_data(0xff);
  EXPECT_EQ(data(), 0xfa);
  EXPECT_EQ(data(), 0xaa);
  EXPECT_EQ(status() & 0x01, 0);
}

TEST_F(I8042Test, KeyboardIdentifyDependsOnTranslation) {
  write_data(0xf2);
  EXPECT_EQ(data(), 0xfa);
  EXPECT_EQ(data(), 0xab);
  EXPECT_EQ(data(), 0x41);
  command(0x60);
  write_data(0x05);  // translation off
  write_data(0xf2);
  EXPECT_EQ(data(), 0xfa);
  EXPECT_EQ(data(), 0xab);
  EXPECT_EQ(data(), 0x83);
}

TEST_F(I8042Test, KeyboardCommandsWithParameters) {
  write_data(0xed);
  EXPECT_EQ(data(), 0xfa);
  write_data(0x07);
  EXPECT_EQ(data(), 0xfa);
  EXPECT_EQ(kbc.state().leds, 7);
  write_data(0xf0);
  write_data(0x00);
  EXPECT_EQ(data(), 0xfa);
  EXPECT_EQ(data(), 0xfa);
  EXPECT_EQ(data(), 0x02);
  write_data(0xf3);
  write_data(0xf4);  // a command byte cancels the pending parameter
  EXPECT_EQ(data(), 0xfa);
  EXPECT_EQ(data(), 0xfa);
  EXPECT_EQ(status() & 0x01, 0);
  write_data(0xee);
  EXPECT_EQ(data(), 0xee);
  write_data(0x12);  // not a command
  EXPECT_EQ(data(), 0xfe);
}

TEST_F(I8042Test, EmptyBufferRereadsTheLastByte) {
  write_data(0xee);
  EXPECT_EQ(data(), 0xee);
  EXPECT_EQ(data(), 0xee);
}

TEST_F(I8042Test, KeyboardRepliesRaiseIrq1WithAnEdgePerByte) {
  write_data(0xff);
  EXPECT_TRUE(irqs.levels[1]);
  EXPECT_EQ(irqs.rising_edges[1], 1u);
  data();
  EXPECT_EQ(irqs.rising_edges[1], 2u);  // the second byte has its own edge
  data();
  EXPECT_FALSE(irqs.levels[1]);
  command(0x60);
  write_data(0x44);  // keyboard interrupt off
  write_data(0xf4);
  EXPECT_FALSE(irqs.levels[1]);
  EXPECT_EQ(status() & 0x01, 0x01);
}

TEST_F(I8042Test, AuxLoopbackComesBackAsAuxDataOnIrq12) {
  command(0x60);
  write_data(0x47);  // keyboard and aux interrupts on
  command(0xd3);
  write_data(0x5a);
  EXPECT_EQ(status() & 0x21, 0x21);
  EXPECT_TRUE(irqs.levels[12]);
  EXPECT_FALSE(irqs.levels[1]);
  EXPECT_EQ(data(), 0x5a);
  EXPECT_FALSE(irqs.levels[12]);
}

TEST_F(I8042Test, WriteKeyboardOutputBufferComesBackAsKeyboardData) {
  command(0xd2);
  write_data(0x1c);
  EXPECT_EQ(status() & 0x21, 0x01);
  EXPECT_TRUE(irqs.levels[1]);
  EXPECT_EQ(data(), 0x1c);
}

TEST_F(I8042Test, BytesForTheMissingMouseTimeOut) {
  command(0xd4);
  write_data(0xf2);
  EXPECT_EQ(status() & 0x61, 0x61);
  EXPECT_EQ(data(), 0xfe);
  EXPECT_EQ(status() & 0x61, 0x00);
}

}  // namespace
}  // namespace devices
