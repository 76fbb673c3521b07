// POPF/PUSHF and CLI/STI privilege rules (SDM Vol. 2 POPF, PUSHF, CLI, STI).
#include "cpu_fixture.h"

namespace cpu::testing {
namespace {

using Eflags = CpuTest;

constexpr uint32_t kIopl3 = 3u << 12;

TEST_F(Eflags, PopfAtCpl0ChangesIoplAndIf) {
  cpu.popf(fl::IF | kIopl3 | fl::CF | fl::ZF | fl::TF | fl::DF | fl::NT | fl::AC | fl::ID, 4);
  EXPECT_EQ(v.read_eflags(), fl::FIXED1 | fl::IF | kIopl3 | fl::CF | fl::ZF | fl::TF | fl::DF |
                                 fl::NT | fl::AC | fl::ID);
  EXPECT_TRUE(v.if_flag);
  cpu.popf(0, 4);
  EXPECT_EQ(v.read_eflags(), fl::FIXED1);
  EXPECT_FALSE(v.if_flag);
}

TEST_F(Eflags, PopfAtCpl3WithIopl0SilentlyKeepsIfAndIopl) {
  enter_ring(3);
  v.write_eflags(fl::FIXED1 | fl::IF);
  cpu.popf(kIopl3 | fl::CF, 4);  // tries to clear IF and raise IOPL: no fault, no effect
  EXPECT_EQ(v.read_eflags(), fl::FIXED1 | fl::IF | fl::CF);
  v.write_eflags(fl::FIXED1);
  cpu.popf(fl::IF, 4);
  EXPECT_FALSE(v.if_flag);
}

TEST_F(Eflags, PopfAtCpl3WithIopl3ChangesIfButNotIopl) {
  enter_ring(3);
  v.write_eflags(fl::FIXED1 | kIopl3);
  cpu.popf(fl::IF | fl::SF, 4);  // IOPL 0 in the popped value
  EXPECT_EQ(v.read_eflags(), fl::FIXED1 | kIopl3 | fl::IF | fl::SF);
}

TEST_F(Eflags, PopfAtCpl1WithIopl1ChangesIf) {
  v.cpl = 1;
  v.write_eflags(fl::FIXED1 | (1u << 12));
  cpu.popf(fl::IF | (2u << 12), 4);
  EXPECT_EQ(v.read_eflags(), fl::FIXED1 | (1u << 12) | fl::IF);
}

TEST_F(Eflags, PopfNeverSetsVmVifVipAndClearsRf) {
  v.eflags |= fl::RF;
  cpu.popf(fl::VM | fl::VIF | fl::VIP | fl::RF | fl::CF, 4);
  EXPECT_EQ(v.read_eflags(), fl::FIXED1 | fl::CF);
}

TEST_F(Eflags, SixteenBitPopfLeavesTheUpperHalf) {
  v.write_eflags(fl::FIXED1 | fl::AC | fl::ID);
  cpu.popf(0xffff0000u | fl::CF, 2);
  EXPECT_EQ(v.read_eflags(), fl::FIXED1 | fl::AC | fl::ID | fl::CF);
}

TEST_F(Eflags, PopfReservedBitsStayFixed) {
  cpu.popf(0xffffffffu, 4);
  // Bit 1 reads 1; bits 3, 5, 15 and 22-31 read 0; VM, VIF, VIP, RF never come from popf.
  EXPECT_EQ(v.read_eflags(), fl::ARITH | fl::FIXED1 | fl::TF | fl::IF | fl::DF | fl::IOPL | fl::NT |
                                 fl::AC | fl::ID);
}

TEST_F(Eflags, PushfHidesVmAndRf) {
  v.write_eflags(fl::FIXED1 | fl::IF | fl::RF | fl::CF);
  EXPECT_EQ(cpu.pushf_value(), fl::FIXED1 | fl::IF | fl::CF);
}

TEST_F(Eflags, CliStiNeedCplAtMostIopl) {
  EXPECT_TRUE(NoFault(cpu.iopl_sensitive()));
  enter_ring(3);
  EXPECT_TRUE(Faulted(cpu.iopl_sensitive(), kGP, 0));
  set_iopl(2);
  EXPECT_TRUE(Faulted(cpu.iopl_sensitive(), kGP, 0));
  set_iopl(3);
  EXPECT_TRUE(NoFault(cpu.iopl_sensitive()));
}

TEST_F(Eflags, CliStiAllowedInRealMode) {
  v.cr0 = cr0::ET;
  v.cpl = 3;  // meaningless in real mode
  EXPECT_TRUE(NoFault(cpu.iopl_sensitive()));
}

}  // namespace
}  // namespace cpu::testing
