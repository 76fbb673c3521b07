// Console input: the escape keys, a pipe feeding COM1's receiver only once the guest listens
// and only as fast as its FIFO drains, and a terminal put in raw mode and restored.
#include "console_input.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "console_escape.h"
#include "fakes.h"

namespace monitor {
namespace {

using A = ConsoleEscape::Action;

TEST(ConsoleEscape, CtrlAThenXQuitsHHelpsCtrlASendsItself) {
  ConsoleEscape e;
  EXPECT_EQ(e.feed('a'), A::Forward);
  EXPECT_EQ(e.feed(0x03), A::Forward);  // Ctrl-C is the guest's
  EXPECT_EQ(e.feed(0x01), A::None);
  EXPECT_EQ(e.feed('h'), A::Help);
  EXPECT_EQ(e.feed(0x01), A::None);
  EXPECT_EQ(e.feed(0x01), A::Forward);
  EXPECT_EQ(e.feed(0x01), A::None);
  EXPECT_EQ(e.feed('q'), A::None);  // unknown escapes are dropped
  EXPECT_EQ(e.feed('x'), A::Forward);
  EXPECT_EQ(e.feed(0x01), A::None);
  EXPECT_EQ(e.feed('x'), A::Quit);
}

struct Uart {
  devices::testing::StringSink sink;
  devices::testing::FakeIrqLine irq;
  devices::Uart16550 uart{sink, irq};
  void listen() { uart.out(devices::Uart16550::kCom1Base + 1, 1, 0x01); }
  std::string drain() {
    std::string s;
    while (uart.in(devices::Uart16550::kCom1Base + 5, 1) & 1)
      s += char(uart.in(devices::Uart16550::kCom1Base, 1));
    return s;
  }
};

// The read end of a pipe that holds `text` and has ended.
int ended_pipe(const std::string& text) {
  int p[2];
  if (pipe(p) != 0) return -1;
  if (write(p[1], text.data(), text.size()) != ssize_t(text.size())) {
    close(p[0]);
    p[0] = -1;
  }
  close(p[1]);
  return p[0];
}

TEST(ConsoleInput, PipeBytesReachTheReceiverOnceTheGuestListens) {
  const std::string text = "0123456789abcdefXYZ\x01x";  // 21 bytes, no escapes from a pipe
  const int fd = ended_pipe(text);
  ASSERT_GE(fd, 0);
  Uart u;
  {
    ConsoleInput in(fd);
    EXPECT_FALSE(in.is_terminal());
    in.pump(u.uart);
    EXPECT_EQ(u.drain(), "");  // receive interrupt off: nothing yet
    u.listen();
    in.pump(u.uart);
    EXPECT_TRUE(u.irq.levels[4]);
    EXPECT_EQ(u.drain(), "0");                               // FIFOs off: a one-byte receiver
    u.uart.out(devices::Uart16550::kCom1Base + 2, 1, 0x01);  // FIFO on: 16 at a time
    in.pump(u.uart);
    EXPECT_EQ(u.drain(), text.substr(1, 16));
    in.pump(u.uart);
    EXPECT_EQ(u.drain(), text.substr(17));
    EXPECT_FALSE(in.quit_requested());
    EXPECT_EQ(in.wake_fd(), -1);  // the pipe ended
  }
  close(fd);
}

// Linux's 8250 set_termios writes IER (receive on) before it turns the FIFO on; a byte sent in
// between was lost to that FIFO reset (the first typed byte went missing, now and then).
TEST(ConsoleInput, BytesAFifoResetEmptiesGoAgainFirst) {
  const int fd = ended_pipe("echo\n");
  ASSERT_GE(fd, 0);
  Uart u;
  {
    ConsoleInput in(fd);
    u.listen();
    in.pump(u.uart);                                         // 'e' in the one-byte receiver
    u.uart.out(devices::Uart16550::kCom1Base + 2, 1, 0x01);  // FIFO on: the receiver is reset
    EXPECT_EQ(u.drain(), "");
    in.pump(u.uart);
    EXPECT_EQ(u.drain(), "echo\n");
  }
  close(fd);
}

TEST(ConsoleInput, NothingIsSentWhileTheUartLoopsBack) {
  const int fd = ended_pipe("ab");
  ASSERT_GE(fd, 0);
  Uart u;
  {
    ConsoleInput in(fd);
    u.listen();
    u.uart.out(devices::Uart16550::kCom1Base + 4, 1, 0x10);
    in.pump(u.uart);
    EXPECT_EQ(u.drain(), "");
    u.uart.out(devices::Uart16550::kCom1Base + 4, 1, 0x00);
    u.uart.out(devices::Uart16550::kCom1Base + 2, 1, 0x01);
    in.pump(u.uart);
    EXPECT_EQ(u.drain(), "ab");
  }
  close(fd);
}

TEST(ConsoleInput, TerminalIsRawWhileRunningAndRestoredAfter) {
  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_GE(master, 0);
  ASSERT_EQ(grantpt(master), 0);
  ASSERT_EQ(unlockpt(master), 0);
  const int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
  ASSERT_GE(slave, 0);
  termios before;
  ASSERT_EQ(tcgetattr(slave, &before), 0);
  ASSERT_TRUE(before.c_lflag & ICANON);
  Uart u;
  u.listen();
  u.uart.out(devices::Uart16550::kCom1Base + 2, 1, 0x01);
  {
    ConsoleInput in(slave);
    EXPECT_TRUE(in.is_terminal());
    termios during;
    ASSERT_EQ(tcgetattr(slave, &during), 0);
    EXPECT_FALSE(during.c_lflag & (ICANON | ECHO | ISIG));
    EXPECT_TRUE(during.c_oflag & OPOST);
    const char typed[] = "ls\x03\x01\x01\x01x";
    ASSERT_EQ(write(master, typed, sizeof typed - 1), ssize_t(sizeof typed - 1));
    for (int i = 0; i < 100 && !in.quit_requested(); ++i) {
      in.pump(u.uart);
      usleep(1000);
    }
    EXPECT_TRUE(in.quit_requested());
    EXPECT_EQ(u.drain(), "ls\x03\x01");
  }
  termios after;
  ASSERT_EQ(tcgetattr(slave, &after), 0);
  EXPECT_EQ(after.c_lflag, before.c_lflag);
  EXPECT_EQ(after.c_iflag, before.c_iflag);
  close(slave);
  close(master);
}

}  // namespace
}  // namespace monitor
