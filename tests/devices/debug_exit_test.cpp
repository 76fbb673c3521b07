#include "devices/debug_exit.h"

#include <gtest/gtest.h>

#include <vector>

#include "devices/post_port.h"

namespace devices {
namespace {

TEST(DebugExit, WriteReportsValueShiftedLeftOrOne) {
  std::vector<uint32_t> statuses;
  DebugExit dev([&](uint32_t s) { statuses.push_back(s); });
  IoBus bus;
  bus.attach(DebugExit::kBase, DebugExit::kPortCount, dev);
  EXPECT_FALSE(dev.state().status);
  bus.out(0xf4, 1, 0);
  bus.out(0xf4, 4, 0x10);
  bus.out(0xf4, 2, 0x7f);
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_EQ(statuses[0], 1u);
  EXPECT_EQ(statuses[1], 0x21u);
  EXPECT_EQ(statuses[2], 0xffu);
  EXPECT_EQ(dev.state().status, 0xffu);
}

TEST(DebugExit, FullWidthWriteIsOneExitNotFour) {
  unsigned calls = 0;
  uint32_t last = 0;
  DebugExit dev([&](uint32_t s) {
    ++calls;
    last = s;
  });
  IoBus bus;
  bus.attach(DebugExit::kBase, DebugExit::kPortCount, dev);
  bus.out(0xf4, 4, 0x12345678);
  EXPECT_EQ(calls, 1u);
  EXPECT_EQ(last, 0x2468acf1u);
}

TEST(DebugExit, WorksWithoutACallback) {
  DebugExit dev(nullptr);
  dev.out(0xf4, 1, 3);
  EXPECT_EQ(dev.state().status, 7u);
}

TEST(PostPort, ReadsBackTheLastCode) {
  PostPort post;
  IoBus bus;
  bus.attach(PostPort::kPort, 1, post);
  EXPECT_EQ(bus.in(0x80, 1), 0u);
  bus.out(0x80, 1, 0x42);
  bus.out(0x80, 1, 0x99);
  EXPECT_EQ(bus.in(0x80, 1), 0x99u);
  EXPECT_EQ(post.state().writes, 2u);
  EXPECT_EQ(bus.stats().unclaimed_outs, 0u);
}

}  // namespace
}  // namespace devices
