// The pool of confined direct-execution processes, one per recently used guest address space
// (hostexec/src/de_stubs.h): a space keeps its process while it is among the kMax most recently
// used, a new one gets a process of its own until kMax run, and past that the least recently
// used process is taken over (its window is then another space's: DirectExec sends the
// difference). Real stub processes; no guest code runs.
#include "de_stubs.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <memory>
#include <set>

namespace {

using hostexec::de::DeStub;
using hostexec::de::DeStubs;

class DeStubsTest : public ::testing::Test {
 protected:
  DeStubsTest() : ram_(memfd_create("bt86-ram", MFD_CLOEXEC)) {
    if (ram_ < 0 || ftruncate(ram_, 1 << 20) != 0) ADD_FAILURE() << "cannot make guest RAM";
  }
  ~DeStubsTest() override { close(ram_); }
  // A pool whose first process holds space 0x1000 (paging turned on) and second 0x2000.
  struct Two {
    DeStubs pool;
    DeStub* one;
    DeStub* two;
  };
  std::unique_ptr<Two> two_spaces() {
    auto t = std::make_unique<Two>(Two{DeStubs(ram_, false, &pending_), nullptr, nullptr});
    t->pool.relabel(0x1000);
    t->one = &t->pool.current();
    t->two = &t->pool.choose(0x2000);
    return t;
  }
  int ram_;
  uint16_t pending_ = 0;
};

TEST_F(DeStubsTest, EachRecentSpaceKeepsItsOwnProcess) {
  DeStubs pool(ram_, false, &pending_);
  EXPECT_EQ(pool.current().space, DeStubs::kNoPaging);
  DeStub* first = &pool.current();
  pool.relabel(0x1000);  // paging turned on: the same process, for the first directory
  EXPECT_EQ(&pool.current(), first);
  DeStub& second = pool.choose(0x2000);
  EXPECT_NE(&second, first);
  EXPECT_EQ(&pool.choose(0x1000), first);
  EXPECT_EQ(&pool.current(), first);
  EXPECT_EQ(&pool.choose(0x2000), &second);
  EXPECT_EQ(pool.started(), 2u);
  EXPECT_NE(first->process.pid(), second.process.pid());
  EXPECT_EQ(pool.taken_over(), 0u);
}

TEST_F(DeStubsTest, PastTheLimitTheLeastRecentlyUsedIsTakenOver) {
  auto t = two_spaces();
  DeStubs& pool = t->pool;
  DeStub *one = t->one, *two = t->two;
  pool.choose(0x1000);  // 0x2000 is now the least recently used
  std::set<pid_t> pids;
  for (uint32_t space = 0x3000; space < 0x3000 + (DeStubs::kMax - 2) * 0x1000; space += 0x1000)
    pids.insert(pool.choose(space).process.pid());
  EXPECT_EQ(pool.started(), DeStubs::kMax);
  EXPECT_EQ(pids.size(), DeStubs::kMax - 2);
  EXPECT_EQ(pool.taken_over(), 0u);
  EXPECT_EQ(&pool.choose(0x9000000), two);  // 0x2000's process, now 0x9000000's
  EXPECT_EQ(two->space, 0x9000000u);
  EXPECT_EQ(pool.taken_over(), 1u);
  EXPECT_EQ(&pool.choose(0x2000), one);  // 0x2000 lost its process; 0x1000's is the oldest now
  EXPECT_EQ(pool.started(), DeStubs::kMax);
  EXPECT_EQ(pool.taken_over(), 2u);
}

TEST_F(DeStubsTest, ASpaceHasOneProcessOnly) {
  auto t = two_spaces();
  DeStubs& pool = t->pool;
  DeStub *one = t->one, *two = t->two;
  // Paging off and on again in the second process, with the first directory: the first
  // process no longer holds that space's window, and is not chosen for it.
  pool.relabel(DeStubs::kNoPaging);
  pool.relabel(0x1000);
  EXPECT_EQ(&pool.current(), two);
  EXPECT_EQ(one->space, DeStubs::kNoSpace);
  EXPECT_EQ(&pool.choose(0x1000), two);
}

}  // namespace
