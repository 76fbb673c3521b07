// The BCD adjust instructions and SALC (SDM Vol. 2 DAA, DAS, AAA, AAS, AAM, AAD).
#include "cpu_fixture.h"

namespace cpu::testing {
namespace {

class Bcd : public CpuTest {
 protected:
  void set_ax(uint16_t ax, uint32_t flags) {
    v.gpr[EAX] = 0xabcd0000u | ax;
    v.eflags = fl::FIXED1 | flags;
  }
  uint16_t ax() const { return uint16_t(v.gpr[EAX]); }
  uint32_t arith() const { return v.eflags & fl::ARITH; }
};

TEST_F(Bcd, DaaAfter79Plus35Gives14WithCarry) {
  set_ax(0x00ae, 0);  // 0x79 + 0x35: no AF, no CF
  cpu.daa();
  EXPECT_EQ(ax(), 0x0014);
  EXPECT_EQ(arith(), fl::CF | fl::AF | fl::PF);
  EXPECT_EQ(v.gpr[EAX] >> 16, 0xabcdu) << "the upper half of EAX is untouched";
}

TEST_F(Bcd, DaaAfter19Plus28UsesAf) {
  set_ax(0x0041, fl::AF);  // 0x19 + 0x28 = 0x41 with a nibble carry
  cpu.daa();
  EXPECT_EQ(ax(), 0x0047);
  EXPECT_EQ(arith(), fl::AF | fl::PF);
}

TEST_F(Bcd, DasAfter35Minus47Gives88WithBorrow) {
  set_ax(0x00ee, fl::CF | fl::AF);
  cpu.das();
  EXPECT_EQ(ax(), 0x0088);
  EXPECT_EQ(arith(), fl::CF | fl::AF | fl::SF | fl::PF);
}

TEST_F(Bcd, AaaAdjustsIntoAh) {
  set_ax(0x0011, fl::AF);  // 9 + 8
  cpu.aaa();
  EXPECT_EQ(ax(), 0x0107);
  EXPECT_EQ(v.eflags & (fl::CF | fl::AF), fl::CF | fl::AF);
}

TEST_F(Bcd, AaaWithoutAdjustClearsHighNibble) {
  set_ax(0x0235, 0);
  cpu.aaa();
  EXPECT_EQ(ax(), 0x0205);
  EXPECT_EQ(v.eflags & (fl::CF | fl::AF), 0u);
}

TEST_F(Bcd, AasBorrowsFromAh) {
  set_ax(0x01fd, fl::AF | fl::CF);  // 12 - 5 with AH = 1
  cpu.aas();
  EXPECT_EQ(ax(), 0x0007);
  EXPECT_EQ(v.eflags & (fl::CF | fl::AF), fl::CF | fl::AF);
}

TEST_F(Bcd, AamSplitsAlAndAadJoinsIt) {
  set_ax(0x004f, 0);  // 79
  ASSERT_TRUE(NoFault(cpu.aam(10)));
  EXPECT_EQ(ax(), 0x0709);
  cpu.aad(10);
  EXPECT_EQ(ax(), 0x004f);
  EXPECT_EQ(arith(), 0u);
  set_ax(0x00ff, 0);
  ASSERT_TRUE(NoFault(cpu.aam(16)));
  EXPECT_EQ(ax(), 0x0f0f);
}

TEST_F(Bcd, AamByZeroIsDivideError) {
  set_ax(0x1234, 0);
  EXPECT_TRUE(FaultedNoError(cpu.aam(0), kDE));
  EXPECT_EQ(ax(), 0x1234);
}

TEST_F(Bcd, AadResultFlags) {
  set_ax(0x0a06, 0);  // 10 * 10 + 6 = 106 = 0x6a
  cpu.aad(10);
  EXPECT_EQ(ax(), 0x006a);
  EXPECT_EQ(arith(), fl::PF);  // 0x6a has four bits set
}

TEST_F(Bcd, SalcCopiesCarryIntoAl) {
  set_ax(0x1234, fl::CF);
  cpu.salc();
  EXPECT_EQ(ax(), 0x12ff);
  set_ax(0x1234, 0);
  cpu.salc();
  EXPECT_EQ(ax(), 0x1200);
}

}  // namespace
}  // namespace cpu::testing
