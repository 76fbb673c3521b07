// The shadow's fill decisions with a real window: hidden faults map the guest's frame with the
// rights it allows (read-only until dirty, or while the frame holds code), true faults give the
// #PF error code, frames outside RAM are refused, and drops empty the window.
#include "shadowmmu/shadow.h"

#include <gtest/gtest.h>

#include <cstring>

namespace {

using Outcome = shadowmmu::Shadow::Outcome;
constexpr uint32_t kP = 1, kRW = 2, kUS = 4, kD = 0x40;
constexpr uint32_t kDir = 0x1000, kTable = 0x2000, kFrame = 0x9000, kLinear = 0x40000000;

class ShadowTest : public ::testing::Test {
 protected:
  ShadowTest() : as_(1u << 20), shadow_(as_, v_) {
    v_.cr0 = cpu::cr0::PE | cpu::cr0::PG | cpu::cr0::WP;
    v_.cr3 = kDir;
    as_.unmap_window();
    set(kDir + (kLinear >> 22) * 4, kTable | kP | kRW | kUS);
  }
  void set(uint32_t pa, uint32_t v) { std::memcpy(as_.phys(pa, 4), &v, 4); }
  uint32_t get(uint32_t pa) {
    uint32_t v;
    std::memcpy(&v, as_.phys(pa, 4), 4);
    return v;
  }
  void map(uint32_t pte_bits) { set(kTable + ((kLinear >> 12) & 0x3ff) * 4, kFrame | pte_bits); }
  uint32_t pte() { return get(kTable + ((kLinear >> 12) & 0x3ff) * 4); }
  static volatile uint32_t* at(uint32_t linear) {
    return reinterpret_cast<volatile uint32_t*>(uintptr_t(linear));
  }

  shadowmmu::AddressSpace as_;
  cpu::Vcpu v_;
  shadowmmu::Shadow shadow_;
};

TEST_F(ShadowTest, HiddenFaultMapsTheGuestFrame) {
  map(kP | kRW | kUS);
  set(kFrame + 8, 0x1234);
  auto f = shadow_.fill(kLinear + 8, false, true);
  ASSERT_EQ(f.outcome, Outcome::Mapped);
  EXPECT_EQ(f.phys, kFrame + 8);
  EXPECT_EQ(*at(kLinear + 8), 0x1234u);  // the window now shows the frame
  EXPECT_FALSE(pte() & kD);
  EXPECT_EQ(shadow_.stats().hidden_faults, 1u);
}

TEST_F(ShadowTest, WriteFillSetsDirtyAndMapsWritable) {
  map(kP | kRW | kUS);
  ASSERT_EQ(shadow_.fill(kLinear, true, true).outcome, Outcome::Mapped);
  EXPECT_TRUE(pte() & kD);
  *at(kLinear + 4) = 0xbeef;  // would crash the test if the mapping were read-only
  EXPECT_EQ(get(kFrame + 4), 0xbeefu);
}

TEST_F(ShadowTest, TrueFaultGivesTheErrorCode) {
  map(kP | kUS);  // read-only
  auto f = shadow_.fill(kLinear, true, true);
  EXPECT_EQ(f.outcome, Outcome::GuestFault);
  EXPECT_EQ(f.error, shadowmmu::pf::P | shadowmmu::pf::W | shadowmmu::pf::U);
  map(0);
  EXPECT_EQ(shadow_.fill(kLinear, false, false).error, 0u);
  EXPECT_EQ(shadow_.stats().true_faults, 2u);
}

TEST_F(ShadowTest, FramesOutsideRamAreRefused) {
  set(kTable + ((kLinear >> 12) & 0x3ff) * 4, 0x7f000000 | kP | kRW | kUS);
  EXPECT_EQ(shadow_.fill(kLinear, false, false).outcome, Outcome::NoRam);
}

TEST_F(ShadowTest, DropsEmptyTheWindow) {
  map(kP | kRW | kUS | kD);
  ASSERT_EQ(shadow_.fill(kLinear, false, true).outcome, Outcome::Mapped);
  shadow_.cr3_written();
  EXPECT_EQ(shadow_.stats().cr3_switches, 1u);
  EXPECT_EQ(shadow_.stats().drops_all, 1u);
  // The page is gone: a fresh fill is needed again (and counted).
  ASSERT_EQ(shadow_.fill(kLinear, false, true).outcome, Outcome::Mapped);
  EXPECT_EQ(shadow_.stats().hidden_faults, 2u);
  shadow_.drop_page(kLinear);
  EXPECT_EQ(shadow_.stats().drops_page, 1u);
}

}  // namespace
