#include "devices/uart16550.h"

#include <gtest/gtest.h>

#include <deque>

#include "fakes.h"

namespace devices {
namespace {

using testing::FakeIrqLine;
using testing::StringSink;

constexpr uint16_t kBase = Uart16550::kCom1Base;
constexpr uint16_t THR = kBase, RBR = kBase, DLL = kBase, IER = kBase + 1, DLM = kBase + 1,
                   IIR = kBase + 2, FCR = kBase + 2, LCR = kBase + 3, MCR = kBase + 4,
                   LSR = kBase + 5, MSR = kBase + 6, SCR = kBase + 7;

class UartTest : public ::testing::Test {
 protected:
  uint8_t rd(uint16_t port) { return uint8_t(bus.in(port, 1)); }
  void wr(uint16_t port, uint8_t v) { bus.out(port, 1, v); }
  bool irq() const { return irqs.levels[4]; }

  StringSink sink;
  FakeIrqLine irqs;
  Uart16550 uart{sink, irqs};
  IoBus bus;
  void SetUp() override { bus.attach(kBase, Uart16550::kPortCount, uart); }
};

TEST_F(UartTest, ResetState) {
  EXPECT_EQ(rd(IER), 0x00);
  EXPECT_EQ(rd(IIR), 0x01);
  EXPECT_EQ(rd(LCR), 0x00);
  EXPECT_EQ(rd(LSR), 0x60);
  EXPECT_FALSE(irq());
}

TEST_F(UartTest, TransmitReachesTheSink) {
  for (char c : std::string("hi\n")) wr(THR, uint8_t(c));
  EXPECT_EQ(sink.text, "hi\n");
  EXPECT_EQ(rd(LSR) & 0x60, 0x60);  // THRE | TEMT stay set: output is immediate
}

TEST_F(UartTest, DlabSelectsTheDivisorLatch) {
  wr(IER, 0x05);
  wr(LCR, 0x83);
  wr(DLL, 0x01);
  wr(DLM, 0x02);
  EXPECT_EQ(rd(DLL), 0x01);
  EXPECT_EQ(rd(DLM), 0x02);
  EXPECT_EQ(sink.text, "");  // the DLL write did not transmit
  wr(LCR, 0x03);
  EXPECT_EQ(rd(LCR), 0x03);
  EXPECT_EQ(rd(IER), 0x05);  // IER kept its value under the latch
  EXPECT_EQ(uart.state().divisor, 0x0201);
}

TEST_F(UartTest, ScratchRegisterHoldsAnyByte) {
  for (uint8_t v : {0xa5, 0x5a, 0x00, 0xff}) {
    wr(SCR, v);
    EXPECT_EQ(rd(SCR), v);
  }
}

TEST_F(UartTest, IerKeepsOnlyTheFourDefinedBits) {
  wr(IER, 0xff);
  EXPECT_EQ(rd(IER), 0x0f);
}

TEST_F(UartTest, FifoEnableShowsInIirAsA16550A) {
  EXPECT_EQ(rd(IIR) & 0xc0, 0x00);
  wr(FCR, 0x01);
  EXPECT_EQ(rd(IIR) & 0xc0, 0xc0);
  // The 16750's 64-byte bit (FCR bit 5 under DLAB) must not show.
  wr(LCR, 0x80);
  wr(FCR, 0x21);
  EXPECT_EQ(rd(IIR) & 0xe0, 0xc0);
  wr(LCR, 0x00);
  wr(FCR, 0x00);
  EXPECT_EQ(rd(IIR) & 0xc0, 0x00);
}

TEST_F(UartTest, ReceivedDataSetsDataReadyAndIsReadInOrder) {
  EXPECT_TRUE(uart.push_input('a'));
  EXPECT_EQ(rd(LSR) & 0x01, 0x01);
  EXPECT_EQ(rd(RBR), 'a');
  EXPECT_EQ(rd(LSR) & 0x01, 0x00);
  wr(FCR, 0x01);
  for (char c : std::string("xyz")) EXPECT_TRUE(uart.push_input(uint8_t(c)));
  EXPECT_EQ(rd(RBR), 'x');
  EXPECT_EQ(rd(RBR), 'y');
  EXPECT_EQ(rd(RBR), 'z');
  EXPECT_EQ(rd(LSR) & 0x01, 0x00);
}

TEST_F(UartTest, FullReceiverFlagsOverrunUntilLsrIsRead) {
  EXPECT_TRUE(uart.push_input('a'));
  EXPECT_EQ(uart.rx_space(), 0u);
  EXPECT_FALSE(uart.push_input('b'));  // no FIFO: one byte holds
  EXPECT_EQ(rd(LSR) & 0x03, 0x03);
  EXPECT_EQ(rd(LSR) & 0x03, 0x01);  // OE cleared by the read
  EXPECT_EQ(rd(RBR), 'a');
  wr(FCR, 0x01);
  for (int i = 0; i < 16; ++i) EXPECT_TRUE(uart.push_input(uint8_t(i)));
  EXPECT_FALSE(uart.push_input(16));
}

TEST_F(UartTest, ReceiveInterruptFollowsIer) {
  uart.push_input('a');
  EXPECT_FALSE(irq());
  EXPECT_EQ(rd(IIR), 0x01);
  wr(IER, 0x01);
  EXPECT_TRUE(irq());
  EXPECT_EQ(rd(IIR), 0x04);
  EXPECT_EQ(rd(RBR), 'a');
  EXPECT_FALSE(irq());
  EXPECT_EQ(rd(IIR), 0x01);
}

TEST_F(UartTest, FifoBelowTriggerLevelReportsCharacterTimeout) {
  wr(FCR, 0x81);  // trigger level 8
  wr(IER, 0x01);
  uart.push_input('a');
  EXPECT_TRUE(irq());
  EXPECT_EQ(rd(IIR), 0xcc);
  for (int i = 0; i < 7; ++i) uart.push_input('b');
  EXPECT_EQ(rd(IIR), 0xc4);
}

TEST_F(UartTest, ThreInterruptIsRaisedOnEnableAndClearedByReadingIir) {
  wr(IER, 0x02);
  EXPECT_TRUE(irq());
  EXPECT_EQ(rd(IIR), 0x02);
  EXPECT_FALSE(irq());
  EXPECT_EQ(rd(IIR), 0x01);
}

TEST_F(UartTest, EachTransmittedByteGivesAFreshThreEdge) {
  wr(IER, 0x02);
  const unsigned edges = irqs.rising_edges[4];
  wr(THR, 'x');
  wr(THR, 'y');
  EXPECT_EQ(irqs.rising_edges[4], edges + 2);
  EXPECT_TRUE(irq());
  wr(IER, 0x00);
  EXPECT_FALSE(irq());
}

TEST_F(UartTest, IirReportsTheHighestPrioritySource) {
  wr(IER, 0x0f);
  EXPECT_EQ(rd(IIR), 0x02);  // THRE only (and reading it clears it)
  uart.push_input('a');
  uart.push_input('b');  // overrun: a line status error
  wr(IER, 0x0f);
  EXPECT_EQ(rd(IIR), 0x06);  // line status beats received data
  rd(LSR);
  EXPECT_EQ(rd(IIR), 0x04);  // received data beats THRE
  rd(RBR);
  wr(IER, 0x0d);
  wr(IER, 0x0f);  // re-arm THRE
  EXPECT_EQ(rd(IIR), 0x02);
  EXPECT_EQ(rd(IIR), 0x01);
}

TEST_F(UartTest, LoopbackReturnsTransmittedBytesAndMirrorsModemLines) {
  wr(MCR, 0x10 | 0x0a);  // the Linux 8250 probe: LOOP | OUT2 | RTS
  EXPECT_EQ(rd(MSR) & 0xf0, 0x90);
  wr(MCR, 0x10 | 0x05);  // LOOP | OUT1 | DTR
  EXPECT_EQ(rd(MSR) & 0xf0, 0x60);
  wr(THR, 'q');
  EXPECT_EQ(sink.text, "");
  EXPECT_EQ(rd(LSR) & 0x01, 0x01);
  EXPECT_EQ(rd(RBR), 'q');
  wr(MCR, 0x00);
  EXPECT_EQ(rd(MSR) & 0xf0, 0xb0);
}

TEST_F(UartTest, ModemStatusDeltasRaiseTheModemInterrupt) {
  wr(MCR, 0x10);
  rd(MSR);  // clear deltas from entering loopback
  wr(IER, 0x08);
  EXPECT_FALSE(irq());
  wr(MCR, 0x12);  // RTS -> CTS changes
  EXPECT_TRUE(irq());
  EXPECT_EQ(rd(IIR), 0x00);
  EXPECT_EQ(rd(MSR), 0x11);  // CTS | DCTS
  EXPECT_FALSE(irq());
  EXPECT_EQ(rd(MSR), 0x10);
}

TEST_F(UartTest, FcrResetEmptiesTheReceiveFifo) {
  wr(FCR, 0x01);
  uart.push_input('a');
  wr(FCR, 0x03);
  EXPECT_EQ(rd(LSR) & 0x01, 0x00);
}

TEST_F(UartTest, FifoResetsKeepTheUnreadLineBytesForTheSender) {
  uart.push_input('a');
  wr(FCR, 0x01);  // enabling the FIFO empties the one-byte receiver
  uart.push_input('b');
  uart.push_input('c');
  EXPECT_EQ(rd(RBR), 'b');  // read by the guest: not the sender's again
  wr(FCR, 0x03);
  EXPECT_EQ(rd(LSR) & 0x01, 0x00);
  EXPECT_EQ(uart.take_reset_line_bytes(), (std::deque<uint8_t>{'a', 'c'}));
  EXPECT_TRUE(uart.take_reset_line_bytes().empty());
}

TEST_F(UartTest, LoopbackCutsTheLineOffAndItsBytesAreNotTheSenders) {
  wr(MCR, 0x10);
  EXPECT_FALSE(uart.receives_line());
  EXPECT_FALSE(uart.push_input('a'));
  EXPECT_EQ(rd(LSR) & 0x01, 0x00);
  wr(THR, 'q');
  wr(FCR, 0x01);  // empties the looped-back byte
  EXPECT_TRUE(uart.take_reset_line_bytes().empty());
  wr(MCR, 0x00);
  EXPECT_TRUE(uart.receives_line());
}

}  // namespace
}  // namespace devices
