// The translator's x87/MMX/SSE support: guest FPU instructions run on the host FPU with the
// guest state loaded lazily; callouts and exits save it to the vCPU's image and give the monitor
// its own control state back; CR0/CR4 decide #NM/#UD; x87 and SIMD errors become #MF/#XM.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <xmmintrin.h>

#include <cstring>
#include <vector>

#include "bt/engine.h"
#include "cpu/cpu.h"
#include "cpu/fpu_state.h"
#include "engine_fixture.h"

namespace {

constexpr uint32_t kBase = 0x21000000, kSize = 0x20000;
constexpr uint32_t kData = kBase + 0x8000;  // 16-byte aligned scratch data
constexpr uint32_t kStackTop = kBase + kSize - 16;

// Guest code with absolute [disp32] operands into the data area.
struct Asm {
  std::vector<uint8_t> b;
  Asm& op(std::initializer_list<uint8_t> bytes) {
    b.insert(b.end(), bytes);
    return *this;
  }
  Asm& mem(std::initializer_list<uint8_t> opcode_and_modrm, uint32_t at) {
    op(opcode_and_modrm);
    for (int i = 0; i < 4; ++i) b.push_back(uint8_t(at >> (8 * i)));
    return *this;
  }
  uint32_t here() const { return kBase + uint32_t(b.size()); }
};

class FpuEngineTest : public bt_test::MappedEngineTest<> {
 protected:
  FpuEngineTest() : MappedEngineTest(kBase, kSize, kStackTop, {kBase, kBase + kSize}) {}
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(MappedEngineTest::SetUp());
    v_.cr0 |= cpu::cr0::NE | cpu::cr0::MP;
    v_.cr4 |= cpu::cr4::OSFXSR | cpu::cr4::OSXMMEXCPT;
  }
  bt::RunExit run(const Asm& code) { return MappedEngineTest::run(code.b); }
  template <typename T>
  T& at(uint32_t a) {
    return *reinterpret_cast<T*>(uintptr_t(a));
  }
  uint64_t fpu_callouts() const { return stats_.callouts[size_t(bt::CalloutKind::Fpu)]; }
};

constexpr std::initializer_list<uint8_t> kFld1{0xD9, 0xE8}, kFldz{0xD9, 0xEE}, kFaddp{0xDE, 0xC1},
    kFdivp{0xDE, 0xF9}, kFwait{0x9B}, kCpuid{0x0F, 0xA2}, kEmms{0x0F, 0x77},
    kDivps{0x0F, 0x5E, 0xC1};
constexpr std::initializer_list<uint8_t> kFistp{0xDB, 0x1D}, kFldcw{0xD9, 0x2D},
    kLdmxcsr{0x0F, 0xAE, 0x15}, kStmxcsr{0x0F, 0xAE, 0x1D}, kMovupsLoad{0x0F, 0x10, 0x05},
    kMovupsLoad1{0x0F, 0x10, 0x0D}, kMovupsStore{0x0F, 0x11, 0x05}, kMovapsLoad{0x0F, 0x28, 0x05},
    kFxsave{0x0F, 0xAE, 0x05}, kFxrstor{0x0F, 0xAE, 0x0D}, kFnsave{0xDD, 0x35}, kFnstcw{0xD9, 0x3D};

TEST_F(FpuEngineTest, X87ArithmeticRunsWithOneGatePerUnit) {
  Asm c;
  c.op(kFld1).op(kFld1).op(kFaddp).mem(kFistp, kData);
  ASSERT_EQ(run(c).kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(at<int32_t>(kData), 2);
  EXPECT_EQ(fpu_callouts(), 1u);  // the gate, once: the state is loaded lazily, once
}

TEST_F(FpuEngineTest, StateSurvivesACalloutAndIsReloadedAfterIt) {
  Asm c;
  c.op(kFld1).op(kCpuid).op(kFld1).op(kFaddp).mem(kFistp, kData);
  ASSERT_EQ(run(c).kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(at<int32_t>(kData), 2);
  EXPECT_EQ(fpu_callouts(), 2u);  // the cpuid callout saved the state: a second gate
}

TEST_F(FpuEngineTest, UnitsWithoutFpuInstructionsPassNoGate) {
  Asm c;
  c.op({0x90}).op(kCpuid).op({0x40});
  ASSERT_EQ(run(c).kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(fpu_callouts(), 0u);
}

TEST_F(FpuEngineTest, TheImageHoldsTheStateAfterAnExitAndTheMonitorKeepsItsOwn) {
  const uint32_t monitor_mxcsr = _mm_getcsr();
  at<uint32_t>(kData) = 0x7f80;  // round toward zero, all masked
  Asm c;
  c.mem(kLdmxcsr, kData).op(kFld1);
  ASSERT_EQ(run(c).kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(_mm_getcsr(), monitor_mxcsr);
  EXPECT_EQ(cpu::fpu_get32(v_, cpu::fxs::MXCSR), 0x7f80u);
  EXPECT_EQ((cpu::fpu_get16(v_, cpu::fxs::FSW) >> 11) & 7, 7u);  // TOP after one push
  EXPECT_EQ(v_.fpu[cpu::fxs::FTW], 0x80);                        // physical register 7 in use
  uint64_t mant;
  std::memcpy(&mant, v_.fpu + cpu::fxs::ST0, 8);
  EXPECT_EQ(mant, 1ull << 63);  // 1.0
  EXPECT_EQ(cpu::fpu_get16(v_, cpu::fxs::ST0 + 8), 0x3fff);
  EXPECT_EQ(v_.fpu_live, 0);
}

TEST_F(FpuEngineTest, TaskSwitchedIsNmAtTheFirstFpuInstruction) {
  v_.cr0 |= cpu::cr0::TS;
  Asm c;
  c.op({0x90}).op(kFld1);
  auto x = run(c);
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Exception);
  EXPECT_EQ(x.fault.vector, cpu::kNM);
  EXPECT_EQ(v_.eip, kBase + 1);
}

TEST_F(FpuEngineTest, EmulationIsNmForX87AndUdForMmxAndSse) {
  v_.cr0 |= cpu::cr0::EM;
  auto x = run(Asm().op(kFld1));
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Exception);
  EXPECT_EQ(x.fault.vector, cpu::kNM);
  cpu_.reset_multiboot(kBase, 0, 0);
  v_.cr0 |= cpu::cr0::EM | cpu::cr0::TS;
  v_.cr4 |= cpu::cr4::OSFXSR;
  x = run(Asm().op(kEmms));
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Exception);
  EXPECT_EQ(x.fault.vector, cpu::kUD);
  x = run(Asm().op(kDivps));
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Exception);
  EXPECT_EQ(x.fault.vector, cpu::kUD);
}

TEST_F(FpuEngineTest, SseNeedsOsfxsr) {
  v_.cr4 &= ~cpu::cr4::OSFXSR;
  auto x = run(Asm().op({0x90}).op(kDivps));
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Exception);
  EXPECT_EQ(x.fault.vector, cpu::kUD);
  EXPECT_EQ(v_.eip, kBase + 1);
  // x87 and MMX do not care.
  cpu_.reset_multiboot(kBase, 0, 0);
  EXPECT_EQ(run(Asm().op(kFld1).op(kEmms)).kind, bt::RunExit::Kind::Stop);
}

TEST_F(FpuEngineTest, WaitIsNmOnlyWithMpAndTs) {
  v_.cr0 = (v_.cr0 & ~cpu::cr0::MP) | cpu::cr0::TS;
  EXPECT_EQ(run(Asm().op(kFwait)).kind, bt::RunExit::Kind::Stop);
  v_.eip = kBase;
  v_.cr0 |= cpu::cr0::MP;
  auto x = run(Asm().op(kFwait));
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Exception);
  EXPECT_EQ(x.fault.vector, cpu::kNM);
}

// fldcw with ZE unmasked; 1/0; the error shows at the next waiting instruction.
Asm zero_divide(uint32_t cw_at) {
  Asm c;
  c.mem(kFldcw, cw_at).op(kFld1).op(kFldz).op(kFdivp);
  return c;
}

TEST_F(FpuEngineTest, UnmaskedX87ErrorIsMfAtTheNextWaitingInstruction) {
  at<uint16_t>(kData) = 0x037b;
  Asm c = zero_divide(kData);
  const uint32_t wait_at = c.here();
  c.op(kFwait);
  auto x = run(c);
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Exception);
  EXPECT_EQ(x.fault.vector, cpu::kMF);
  EXPECT_EQ(v_.eip, wait_at);
  EXPECT_TRUE(cpu::fpu_get16(v_, cpu::fxs::FSW) & 0x84);  // ES and ZE stay set in the state
}

// With CR0.NE = 0 too, the engine reports the x87 error at the waiting instruction; the CPU
// (cpu::Cpu::x87_error) then takes the FERR# route instead of #MF.
TEST_F(FpuEngineTest, X87ErrorWithNeClearIsReportedAtTheWaitingInstruction) {
  v_.cr0 &= ~cpu::cr0::NE;
  at<uint16_t>(kData) = 0x037b;
  Asm c = zero_divide(kData);
  const uint32_t wait_at = c.here();
  auto x = run(c.op(kFwait));
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Exception);
  EXPECT_EQ(x.fault.vector, cpu::kMF);
  EXPECT_EQ(v_.eip, wait_at);
}

TEST_F(FpuEngineTest, UnmaskedSimdErrorIsXmOrUdWithoutOsxmmexcpt) {
  at<uint32_t>(kData) = 0x1d80;  // ZM unmasked
  const float ones[4] = {1, 1, 1, 1}, zeros[4] = {0, 0, 0, 0};
  std::memcpy(&at<uint8_t>(kData + 16), ones, 16);
  std::memcpy(&at<uint8_t>(kData + 32), zeros, 16);
  Asm c;
  c.mem(kLdmxcsr, kData).mem(kMovupsLoad, kData + 16).mem(kMovupsLoad1, kData + 32);
  const uint32_t div_at = c.here();
  c.op(kDivps);
  auto x = run(c);
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Exception);
  EXPECT_EQ(x.fault.vector, cpu::kXM);
  EXPECT_EQ(v_.eip, div_at);
  cpu_.reset_multiboot(kBase, 0, 0);
  v_.cr4 |= cpu::cr4::OSFXSR;
  x = run(c);
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Exception);
  EXPECT_EQ(x.fault.vector, cpu::kUD);
}

TEST_F(FpuEngineTest, MxcsrBitsThePartLacksAreGp) {
  at<uint32_t>(kData) = 0x1fc0;  // DAZ: not on a Pentium III
  auto x = run(Asm().mem(kLdmxcsr, kData));
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Exception);
  EXPECT_EQ(x.fault.vector, cpu::kGP);
}

TEST_F(FpuEngineTest, MisalignedMovapsIsGp) {
  auto x = run(Asm().mem(kMovapsLoad, kData + 4));
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Exception);
  EXPECT_EQ(x.fault.vector, cpu::kGP);
  EXPECT_EQ(x.fault.error, 0u);
}

TEST_F(FpuEngineTest, FxsaveWritesTheGuestImageWithGuestPointers) {
  const float v4[4] = {1, 2, 3, 4};
  std::memcpy(&at<uint8_t>(kData + 16), v4, 16);
  std::memset(&at<uint8_t>(kData + 0x200), 0xAA, 512);
  Asm c;
  c.mem(kMovupsLoad, kData + 16);
  const uint32_t fld_at = c.here();
  c.op(kFld1).mem(kFxsave, kData + 0x200);
  ASSERT_EQ(run(c).kind, bt::RunExit::Kind::Stop);
  const uint32_t img = kData + 0x200;
  EXPECT_EQ(at<uint16_t>(img + cpu::fxs::FCW), 0x037f);
  EXPECT_EQ(at<uint32_t>(img + cpu::fxs::MXCSR), 0x1f80u);
  EXPECT_EQ(at<uint32_t>(img + cpu::fxs::MXCSR_MASK), 0u);
  EXPECT_EQ(std::memcmp(&at<uint8_t>(img + cpu::fxs::XMM0), v4, 16), 0);
  // The host may not record the pointers (AMD does only with an error pending); when it does,
  // they must be the guest's.
  const uint32_t fip = at<uint32_t>(img + cpu::fxs::FIP);
  if (fip != 0) {
    EXPECT_EQ(fip, fld_at);
    EXPECT_EQ(at<uint16_t>(img + cpu::fxs::FCS), v_.seg[cpu::CS].sel);
  }
  EXPECT_EQ(at<uint8_t>(img + cpu::fxs::kArchBytes), 0xAA);  // reserved bytes untouched
  v_.eip = kBase;
  auto x = run(Asm().mem(kFxsave, kData + 0x208));
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Exception);
  EXPECT_EQ(x.fault.vector, cpu::kGP);
}

TEST_F(FpuEngineTest, FxrstorLoadsTheStateAndChecksMxcsr) {
  uint8_t img[512] = {};
  img[0] = 0x7f, img[1] = 0x03;
  const uint32_t mxcsr = 0x1f80;
  std::memcpy(img + cpu::fxs::MXCSR, &mxcsr, 4);
  const float v4[4] = {5, 6, 7, 8};
  std::memcpy(img + cpu::fxs::XMM0, v4, 16);
  std::memcpy(&at<uint8_t>(kData + 0x200), img, 512);
  Asm c;
  c.mem(kFxrstor, kData + 0x200).mem(kMovupsStore, kData);
  ASSERT_EQ(run(c).kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(std::memcmp(&at<uint8_t>(kData), v4, 16), 0);
  at<uint32_t>(kData + 0x200 + cpu::fxs::MXCSR) = 0x11f80;
  v_.eip = kBase;
  auto x = run(c);
  ASSERT_EQ(x.kind, bt::RunExit::Kind::Exception);
  EXPECT_EQ(x.fault.vector, cpu::kGP);
}

TEST_F(FpuEngineTest, FnsaveWritesTheFullTagWordAndReinitialises) {
  at<uint16_t>(kData) = 0x027f;  // precision: double
  Asm c;
  c.mem(kFldcw, kData).op(kFld1).op(kFldz).mem(kFnsave, kData + 0x100).mem(kFnstcw, kData + 2);
  ASSERT_EQ(run(c).kind, bt::RunExit::Kind::Stop);
  const uint32_t img = kData + 0x100;
  EXPECT_EQ(at<uint16_t>(img), 0x027f);
  // TOP = 6: physical 6 holds 0 (tag 01), 7 holds 1.0 (tag 00), the rest empty (11).
  EXPECT_EQ((at<uint16_t>(img + 4) >> 11) & 7, 6u);
  EXPECT_EQ(at<uint16_t>(img + 8), 0x1fff);
  EXPECT_EQ(at<uint16_t>(img + 28 + 10 + 8), 0x3fff);  // ST(1) = 1.0
  EXPECT_EQ(at<uint16_t>(kData + 2), 0x037f);          // fnsave did fninit
}

}  // namespace
