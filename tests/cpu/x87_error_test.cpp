// x87 errors at a waiting instruction (SDM Vol. 1, 8.7, D.2): #MF with CR0.NE = 1, FERR# to the
// board with CR0.NE = 0.
#include "cpu_fixture.h"

namespace cpu::testing {
namespace {

using X87Error = CpuTest;

TEST_F(X87Error, NeSetRaisesMfAtTheInstruction) {
  v.cr0 |= cr0::NE;
  v.eip = 0x1234;
  cpu.x87_error();
  ASSERT_FALSE(cpu.shutdown());
  EXPECT_EQ(v.eip, handler(kMF));
  EXPECT_EQ(stack(0), 0x1234u);  // a fault: the waiting instruction runs again
  EXPECT_EQ(hooks.ferrs, 0u);
}

TEST_F(X87Error, NeClearGoesToFerrAndRaisesNothing) {
  v.cr0 &= ~cr0::NE;
  v.eip = 0x1234;
  const uint32_t esp = v.gpr[ESP];
  cpu.x87_error();
  EXPECT_EQ(hooks.ferrs, 1u);
  EXPECT_EQ(v.eip, 0x1234u);
  EXPECT_EQ(v.gpr[ESP], esp);
}

TEST_F(X87Error, WithNothingWiredToFerrItIsUnsupported) {
  struct Unwired final : Hooks {
    void paging_changed(uint32_t, uint32_t) override {}
    void cr3_written(uint32_t) override {}
    void invlpg(uint32_t) override {}
  } unwired;
  Cpu bare{v, mem, ports, unwired};
  v.cr0 &= ~cr0::NE;
  EXPECT_THROW(bare.x87_error(), Unsupported);
}

}  // namespace
}  // namespace cpu::testing
