// ins/outs (SDM Vol. 2 INS, OUTS, REP): widths, DF, rep counts, 16-bit addressing, I/O
// permission, and faults in the middle of a rep that leave the registers at the failing element.
#include "cpu_fixture.h"

namespace cpu::testing {
namespace {

class StringIoTest : public CpuTest {
 protected:
  // Runs the instruction to completion or to its first fault, as the translator's callout does.
  MaybeFault run(const StringIo& op) {
    for (int i = 0; i < 100000; ++i) {
      bool done = false;
      if (auto f = cpu.string_io_step(op, done)) return f;
      if (done) return {};
    }
    ADD_FAILURE() << "rep never finished";
    return {};
  }
  static StringIo ins(unsigned size, bool rep = false) { return {true, size, rep, false, DS}; }
  static StringIo outs(unsigned size, bool rep = false, Seg s = DS) {
    return {false, size, rep, false, s};
  }
};

TEST_F(StringIoTest, InsbStoresAtEsEdiAndSteps) {
  v.gpr[EDX] = 0x71;
  v.gpr[EDI] = 0x20000;
  ports.in_value = 0xab;
  ASSERT_TRUE(NoFault(run(ins(1))));
  EXPECT_EQ(mem.get8(0x20000), 0xab);
  EXPECT_EQ(mem.get8(0x20001), 0);
  EXPECT_EQ(v.gpr[EDI], 0x20001u);
  EXPECT_EQ(ports.log, (std::vector<FakePorts::Access>{{false, 0x71, 1, 0}}));
}

TEST_F(StringIoTest, RepOutsdReadsDsEsiForwardAndCountsDown) {
  v.gpr[EDX] = 0x3f8;
  v.gpr[ESI] = 0x20000;
  v.gpr[ECX] = 3;
  for (uint32_t i = 0; i < 3; ++i) mem.put32(0x20000 + 4 * i, 0x11111111u * (i + 1));
  ASSERT_TRUE(NoFault(run(outs(4, true))));
  EXPECT_EQ(ports.log, (std::vector<FakePorts::Access>{{true, 0x3f8, 4, 0x11111111},
                                                       {true, 0x3f8, 4, 0x22222222},
                                                       {true, 0x3f8, 4, 0x33333333}}));
  EXPECT_EQ(v.gpr[ESI], 0x2000cu);
  EXPECT_EQ(v.gpr[ECX], 0u);
}

TEST_F(StringIoTest, RepInswWithDfGoesDown) {
  v.eflags |= fl::DF;
  v.gpr[EDX] = 0x1f0;
  v.gpr[EDI] = 0x20010;
  v.gpr[ECX] = 2;
  ports.in_value = 0xbeef;
  ASSERT_TRUE(NoFault(run(ins(2, true))));
  EXPECT_EQ(mem.get16(0x20010), 0xbeef);
  EXPECT_EQ(mem.get16(0x2000e), 0xbeef);
  EXPECT_EQ(mem.get16(0x2000c), 0);
  EXPECT_EQ(v.gpr[EDI], 0x2000cu);
  EXPECT_EQ(v.gpr[ECX], 0u);
}

TEST_F(StringIoTest, RepWithZeroCountDoesNothing) {
  v.gpr[ECX] = 0;
  v.gpr[ESI] = 0x20000;
  ASSERT_TRUE(NoFault(run(outs(1, true))));
  EXPECT_TRUE(ports.log.empty());
  EXPECT_EQ(v.gpr[ESI], 0x20000u);
}

TEST_F(StringIoTest, OutsUsesItsSegmentBase) {
  v.seg[FS].base = 0x10000;
  v.gpr[ESI] = 0x100;
  mem.put8(0x10100, 0x5a);
  ASSERT_TRUE(NoFault(run(outs(1, false, FS))));
  EXPECT_EQ(ports.log.at(0).value, 0x5au);
}

TEST_F(StringIoTest, SixteenBitAddressingWrapsSiAndCountsCx) {
  v.gpr[ESI] = 0xabcdffff;  // SI = 0xffff: the next element is at 0
  v.gpr[ECX] = 0x12340002;  // CX = 2
  mem.put8(0xffff, 1);
  mem.put8(0, 2);
  ASSERT_TRUE(NoFault(run(StringIo{false, 1, true, true, DS})));
  EXPECT_EQ(ports.log.size(), 2u);
  EXPECT_EQ(ports.log.at(1).value, 2u);
  EXPECT_EQ(v.gpr[ESI], 0xabcd0001u);
  EXPECT_EQ(v.gpr[ECX], 0x12340000u);
}

TEST_F(StringIoTest, AFaultMidRepLeavesTheRegistersAtTheFailingElement) {
  mem.add_hole(0x21000, 0x22000);
  v.gpr[EDX] = 0x60;
  v.gpr[EDI] = 0x20ffe;
  v.gpr[ECX] = 4;
  auto f = run(ins(1, true));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->vector, kPF);
  EXPECT_EQ(f->cr2, 0x21000u);
  EXPECT_EQ(v.gpr[EDI], 0x21000u);
  EXPECT_EQ(v.gpr[ECX], 2u);
  EXPECT_EQ(ports.log.size(), 2u);  // the faulting element did not read the port
  // The page appears (the #PF handler mapped it): running the instruction again finishes it.
  mem.holes.clear();
  ASSERT_TRUE(NoFault(run(ins(1, true))));
  EXPECT_EQ(v.gpr[ECX], 0u);
  EXPECT_EQ(v.gpr[EDI], 0x21002u);
  EXPECT_EQ(ports.log.size(), 4u);
}

TEST_F(StringIoTest, OutsFaultBeforeThePortIsWritten) {
  mem.add_hole(0x20000, 0x21000);
  v.gpr[ESI] = 0x20000;
  v.gpr[ECX] = 1;
  auto f = run(outs(2, true));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->vector, kPF);
  EXPECT_TRUE(ports.log.empty());
  EXPECT_EQ(v.gpr[ECX], 1u);
}

TEST_F(StringIoTest, Ring3NeedsIoplOrTheBitmap) {
  enter_ring(3);
  set_iopl(0);
  v.gpr[EDX] = 0x3f8;
  v.gpr[ESI] = 0x20000;
  v.gpr[ECX] = 2;
  mem.put8(kTss + kIoMapOffset + 0x3f8 / 8, 1);  // deny 0x3f8
  EXPECT_TRUE(Faulted(run(outs(1, true)), kGP, 0));
  EXPECT_EQ(v.gpr[ECX], 2u);
  EXPECT_TRUE(ports.log.empty());
  set_iopl(3);
  EXPECT_TRUE(NoFault(run(outs(1, true))));
  EXPECT_EQ(ports.log.size(), 2u);
}

TEST_F(StringIoTest, Ring3AccessesAreCheckedAsUser) {
  enter_ring(3);
  set_iopl(3);
  v.gpr[EDI] = 0x20000;
  ASSERT_TRUE(NoFault(run(ins(4))));
  ASSERT_FALSE(mem.writes().empty());
  EXPECT_EQ(mem.writes().back().mode, Memory::Mode::User);
  EXPECT_EQ(mem.get32(0x20000), 0x12345678u);
}

}  // namespace
}  // namespace cpu::testing
