// diff_native_tests: the native runner against known answers.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstring>
#include <stdexcept>

#include "harness.h"
#include "require_compat.h"

namespace difftest {
namespace {

class NativeRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override { BT86_REQUIRE_COMPAT_MODE(); }
  static TestCase make(std::vector<uint8_t> code, uint32_t eflags = 0) {
    TestCase tc;
    tc.name = "selftest";
    tc.code = std::move(code);
    const uint32_t regs[8] = {
        0x11111111, 0x22222222, 0x33333333, 0x44444444, kStackBase + kStackSize / 2,
        0x66666666, 0x77777777, 0x88888888};
    std::memcpy(tc.in.gpr, regs, sizeof regs);
    tc.in.eflags = eflags;
    return tc;
  }
  Outcome run(const TestCase& tc) {
    reset_arena(tc);
    return runner_->run(tc);
  }
  std::unique_ptr<Runner> runner_ = make_native_runner();
};

uint32_t arith(const Outcome& o) {
  return o.state.eflags & kArithFlags;
}

TEST_F(NativeRunnerTest, AddGivesTheSumAndItsFlags) {
  TestCase tc = make({0x01, 0xd8});  // add eax, ebx
  tc.in.gpr[kEax] = 0xffffffff;
  tc.in.gpr[kEbx] = 1;
  const Outcome o = run(tc);
  EXPECT_EQ(o.vector, -1);
  EXPECT_EQ(o.state.gpr[kEax], 0u);
  EXPECT_EQ(o.state.gpr[kEbx], 1u);
  EXPECT_EQ(arith(o), kCF | kPF | kAF | kZF);
}

TEST_F(NativeRunnerTest, SubSetsOverflowAndKeepsOtherRegisters) {
  TestCase tc = make({0x29, 0xd8});  // sub eax, ebx
  tc.in.gpr[kEax] = 0x80000000;
  tc.in.gpr[kEbx] = 1;
  const Outcome o = run(tc);
  EXPECT_EQ(o.vector, -1);
  EXPECT_EQ(o.state.gpr[kEax], 0x7fffffffu);
  EXPECT_EQ(arith(o), kOF | kAF | kPF);
  for (int r : {kEcx, kEdx, kEsp, kEbp, kEsi, kEdi}) EXPECT_EQ(o.state.gpr[r], tc.in.gpr[r]) << r;
}

TEST_F(NativeRunnerTest, EmptyCodeRoundTripsRegistersAndFlags) {
  for (uint32_t flags : {0u, kComparedFlags, kCF | kZF | kDF, kOF | kSF | kAF | kPF}) {
    TestCase tc = make({}, flags);
    const Outcome o = run(tc);
    EXPECT_EQ(o.vector, -1);
    for (int r = 0; r < 8; ++r) EXPECT_EQ(o.state.gpr[r], tc.in.gpr[r]) << r;
    EXPECT_EQ(o.state.eflags & kComparedFlags, flags);
  }
}

TEST_F(NativeRunnerTest, DivideByZeroFaultsAtTheDivide) {
  const Outcome o = run(make({0x31, 0xc9, 0xf7, 0xf1}));  // xor ecx, ecx; div ecx
  EXPECT_EQ(o.vector, 0);
  EXPECT_EQ(o.fault_eip, kCodeBase + 2);
  EXPECT_EQ(o.state.gpr[kEcx], 0u);
  EXPECT_EQ(o.state.gpr[kEax], 0x11111111u);
  EXPECT_EQ(o.state.gpr[kEdx], 0x33333333u);
  EXPECT_EQ(arith(o), kZF | kPF);  // from the xor (AF is undefined there)
}

TEST_F(NativeRunnerTest, Int3ReportsTheNextInstruction) {
  const Outcome o = run(make({0x90, 0xcc, 0x90}));
  EXPECT_EQ(o.vector, 3);
  EXPECT_EQ(o.fault_eip, kCodeBase + 2);
}

TEST_F(NativeRunnerTest, IntoTrapsOnlyWithOverflow) {
  const Outcome with = run(make({0xce, 0x90}, kOF));
  EXPECT_EQ(with.vector, 4);
  EXPECT_EQ(with.fault_eip, kCodeBase + 1);
  EXPECT_EQ(run(make({0xce, 0x90}, 0)).vector, -1);
}

TEST_F(NativeRunnerTest, Ud2FaultsAtItself) {
  const Outcome o = run(make({0x40, 0x0f, 0x0b}));  // inc eax; ud2
  EXPECT_EQ(o.vector, 6);
  EXPECT_EQ(o.fault_eip, kCodeBase + 1);
  EXPECT_EQ(o.state.gpr[kEax], 0x11111112u);  // the state at the fault includes the inc
}

TEST_F(NativeRunnerTest, BoundFaultsOutOfRange) {
  TestCase tc = make({0x62, 0x03});  // bound eax, [ebx]
  tc.in.gpr[kEbx] = kDataBase;
  tc.data = {0, 0, 0, 0, 10, 0, 0, 0};  // bounds 0 .. 10
  tc.in.gpr[kEax] = 10;
  EXPECT_EQ(run(tc).vector, -1);
  tc.in.gpr[kEax] = 11;
  const Outcome o = run(tc);
  EXPECT_EQ(o.vector, 5);
  EXPECT_EQ(o.fault_eip, kCodeBase);
}

TEST_F(NativeRunnerTest, PageFaultAndGeneralProtectionAreReported) {
  const Outcome pf = run(make({0xa1, 0, 0, 0, 0}));  // mov eax, [0]
  EXPECT_EQ(pf.vector, 14);
  EXPECT_EQ(pf.fault_eip, kCodeBase);
  EXPECT_TRUE(pf.error_code & 4) << "user-mode access";
  const Outcome gp = run(make({0x90, 0xf4}));  // nop; hlt
  EXPECT_EQ(gp.vector, 13);
  EXPECT_EQ(gp.fault_eip, kCodeBase + 1);
  EXPECT_EQ(gp.error_code, 0u);
}

TEST_F(NativeRunnerTest, MemoryWritesLandInTheDataAndStackAreas) {
  TestCase tc = make({0x89, 0x43, 0x08, 0x50});  // mov [ebx+8], eax; push eax
  tc.in.gpr[kEbx] = kDataBase;
  tc.in.gpr[kEax] = 0x11223344;
  const Outcome o = run(tc);
  EXPECT_EQ(o.vector, -1);
  uint32_t data = 0, stack = 0;
  std::memcpy(&data, arena_ptr(kDataBase + 8), 4);
  std::memcpy(&stack, arena_ptr(tc.in.gpr[kEsp] - 4), 4);
  EXPECT_EQ(data, 0x11223344u);
  EXPECT_EQ(stack, 0x11223344u);
  EXPECT_EQ(o.state.gpr[kEsp], tc.in.gpr[kEsp] - 4);
}

TEST_F(NativeRunnerTest, HostDirectionFlagIsClearAfterARun) {
  const Outcome o = run(make({0xfd}));  // std
  EXPECT_TRUE(o.state.eflags & kDF);
  EXPECT_EQ(__builtin_ia32_readeflags_u64() & kDF, 0u);
  const Outcome f = run(make({0xfd, 0x0f, 0x0b}));  // std; ud2
  EXPECT_EQ(f.vector, 6);
  EXPECT_TRUE(f.state.eflags & kDF);
  EXPECT_EQ(__builtin_ia32_readeflags_u64() & kDF, 0u);
}

void dummy_handler(int, siginfo_t*, void*) {}

TEST_F(NativeRunnerTest, PreviousSignalHandlersAndStackAreRestored) {
  constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};
  struct sigaction mine {
  }, saved[5];
  mine.sa_sigaction = dummy_handler;
  mine.sa_flags = SA_SIGINFO;
  sigemptyset(&mine.sa_mask);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(sigaction(kSignals[i], &mine, &saved[i]), 0);
  static char alt[1 << 16];
  stack_t my_stack{}, saved_stack{};
  my_stack.ss_sp = alt;
  my_stack.ss_size = sizeof alt;
  ASSERT_EQ(sigaltstack(&my_stack, &saved_stack), 0);

  EXPECT_EQ(run(make({0x0f, 0x0b})).vector, 6);
  EXPECT_EQ(run(make({0x90})).vector, -1);

  for (int i = 0; i < 5; ++i) {
    struct sigaction now {};
    ASSERT_EQ(sigaction(kSignals[i], nullptr, &now), 0);
    EXPECT_EQ(now.sa_sigaction, dummy_handler) << "signal " << kSignals[i];
    EXPECT_EQ(now.sa_flags & (SA_SIGINFO | SA_ONSTACK), SA_SIGINFO) << "signal " << kSignals[i];
  }
  stack_t now_stack{};
  ASSERT_EQ(sigaltstack(nullptr, &now_stack), 0);
  EXPECT_EQ(now_stack.ss_sp, static_cast<void*>(alt));
  EXPECT_EQ(now_stack.ss_size, sizeof alt);

  saved_stack.ss_flags &= SS_DISABLE;
  sigaltstack(&saved_stack, nullptr);
  for (int i = 0; i < 5; ++i) sigaction(kSignals[i], &saved[i], nullptr);
}

TEST_F(NativeRunnerTest, OversizedCasesAreRejected) {
  TestCase code = make(std::vector<uint8_t>(kCodeSize, 0x90));
  EXPECT_THROW(reset_arena(code), std::invalid_argument);
  EXPECT_THROW(runner_->run(code), std::invalid_argument);
  TestCase data = make({0x90});
  data.data.resize(kDataSize + 1);
  EXPECT_THROW(reset_arena(data), std::invalid_argument);
}

TEST_F(NativeRunnerTest, ResetArenaClearsDataAndStack) {
  TestCase dirty = make({0x89, 0x43, 0x08, 0x50});
  dirty.in.gpr[kEbx] = kDataBase;
  run(dirty);
  TestCase clean = make({});
  clean.data = {1, 2, 3};
  reset_arena(clean);
  EXPECT_EQ(arena_ptr(kDataBase)[0], 1);
  EXPECT_EQ(arena_ptr(kDataBase)[8], 0);
  EXPECT_EQ(arena_ptr(dirty.in.gpr[kEsp] - 4)[0], 0);
  EXPECT_EQ(arena_ptr(kCodeBase)[0], 0xcc);
}

}  // namespace
}  // namespace difftest
