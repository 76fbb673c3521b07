// sleep_until_event and VirtualTimer with real host signals. The checks are about whether the
// sleep ends (and why), never about how long it took: a sleep that should end at once is given
// a deadline a minute away, so a wrong implementation fails by the ctest timeout at worst.
#include "halt_sleep.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include "hostexec/host_signals.h"
#include "devices/clock.h"
#include "virtual_timer.h"

namespace monitor {
namespace {

uint64_t now_ns() {
  return devices::HostClock{}.now_ns();  // the clock the monitor's deadlines are on
}

constexpr uint64_t kMinute = 60'000'000'000ull;

class HaltSleepTest : public ::testing::Test {
 protected:
  HaltSleepTest() {
    hostexec::host_signals::add_async(VirtualTimer::kSignal, [](int) { VirtualTimer::on_tick(); });
    sigemptyset(&wake_);
    sigaddset(&wake_, VirtualTimer::kSignal);
  }
  ~HaltSleepTest() override { hostexec::host_signals::remove_async(VirtualTimer::kSignal); }

  cpu::Vcpu v;
  sigset_t wake_;
};

TEST_F(HaltSleepTest, DoesNotSleepWhenTheFlagIsAlreadySet) {
  v.pending.async = 1;
  EXPECT_LT(sleep_until_event(now_ns() + kMinute, &v.pending.async, wake_), kMinute);
}

TEST_F(HaltSleepTest, DoesNotSleepPastTheDeadline) {
  EXPECT_LT(sleep_until_event(now_ns() - 1, &v.pending.async, wake_), kMinute);
  EXPECT_EQ(v.pending.async, 0);
}

TEST_F(HaltSleepTest, TheVirtualTimerEndsTheSleep) {
  VirtualTimer timer(v);
  const uint64_t ticks = VirtualTimer::ticks();
  timer.arm(now_ns() + 1'000'000);
  EXPECT_LT(sleep_until_event(now_ns() + kMinute, &v.pending.async, wake_), kMinute);
  EXPECT_EQ(v.pending.async, 1) << "the tick asks translated code to leave";
  EXPECT_EQ(VirtualTimer::ticks(), ticks + 1);
}

TEST_F(HaltSleepTest, ASignalThatArrivedBeforeTheSleepStillEndsIt) {
  // Blocked and pending: the handler has not run, so the flag is clear when the sleep starts,
  // exactly like a tick between the caller's last look and the sleep.
  sigset_t before;
  pthread_sigmask(SIG_BLOCK, &wake_, &before);
  VirtualTimer timer(v);
  timer.arm(1);  // long past: fires at once
  sigset_t pending;
  sigemptyset(&pending);
  const timespec ms{0, 1'000'000};
  for (int i = 0; i < 10'000 && !sigismember(&pending, VirtualTimer::kSignal); ++i) {
    sigpending(&pending);
    if (!sigismember(&pending, VirtualTimer::kSignal)) nanosleep(&ms, nullptr);
  }
  ASSERT_TRUE(sigismember(&pending, VirtualTimer::kSignal));
  ASSERT_EQ(v.pending.async, 0);
  EXPECT_LT(sleep_until_event(now_ns() + kMinute, &v.pending.async, wake_), kMinute);
  EXPECT_EQ(v.pending.async, 1);
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
}

TEST_F(HaltSleepTest, DisarmedTimerStaysQuiet) {
  VirtualTimer timer(v);
  const uint64_t ticks = VirtualTimer::ticks();
  timer.arm(now_ns() + kMinute);
  timer.disarm();
  // A short sleep to the deadline: nothing may end it early or set the flag.
  sleep_until_event(now_ns() + 2'000'000, &v.pending.async, wake_);
  EXPECT_EQ(v.pending.async, 0);
  EXPECT_EQ(VirtualTimer::ticks(), ticks);
}

}  // namespace
}  // namespace monitor
