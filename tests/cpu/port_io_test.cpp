// IN/OUT permission: CPL <= IOPL, else the TSS I/O permission bitmap (SDM Vol. 1 §19.5).
#include "cpu_fixture.h"

namespace cpu::testing {
namespace {

class PortIo : public CpuTest {
 protected:
  // Denies `port` in the TSS I/O bitmap.
  void deny(uint16_t port) {
    uint32_t at = kTss + kIoMapOffset + port / 8u;
    mem.put8(at, uint8_t(mem.get8(at) | (1u << (port & 7))));
  }
};

TEST_F(PortIo, Cpl0WithIopl0IgnoresTheBitmap) {
  deny(0x60);
  uint32_t value = 0;
  ASSERT_TRUE(NoFault(cpu.in(0x60, 1, value)));
  EXPECT_EQ(value, 0x12345678u);
  ASSERT_TRUE(NoFault(cpu.out(0x60, 1, 0xab)));
  EXPECT_EQ(ports.log,
            (std::vector<FakePorts::Access>{{false, 0x60, 1, 0}, {true, 0x60, 1, 0xab}}));
}

TEST_F(PortIo, Cpl3WithIopl3IgnoresTheBitmap) {
  enter_ring(3);
  set_iopl(3);
  deny(0x60);
  EXPECT_TRUE(NoFault(cpu.out(0x60, 4, 0x11223344)));
  EXPECT_EQ(ports.log, (std::vector<FakePorts::Access>{{true, 0x60, 4, 0x11223344}}));
}

TEST_F(PortIo, Cpl3WithClearBitIsAllowed) {
  enter_ring(3);
  set_iopl(0);
  EXPECT_TRUE(NoFault(cpu.out(0x3f8, 1, 'x')));
  EXPECT_EQ(ports.log, (std::vector<FakePorts::Access>{{true, 0x3f8, 1, 'x'}}));
}

TEST_F(PortIo, Cpl3WithSetBitIsGp0AndNoAccess) {
  enter_ring(3);
  set_iopl(2);
  deny(0x3f8);
  uint32_t value = 0xdead;
  EXPECT_TRUE(Faulted(cpu.in(0x3f8, 1, value), kGP, 0));
  EXPECT_TRUE(Faulted(cpu.out(0x3f8, 1, 0), kGP, 0));
  EXPECT_EQ(value, 0xdeadu);
  EXPECT_TRUE(ports.log.empty());
  // The neighbours are still allowed.
  EXPECT_TRUE(NoFault(cpu.io_permitted(0x3f7, 1)));
  EXPECT_TRUE(NoFault(cpu.io_permitted(0x3f9, 1)));
}

TEST_F(PortIo, MultiByteAccessChecksEveryPortBit) {
  enter_ring(3);
  deny(0x3fa);
  EXPECT_TRUE(NoFault(cpu.io_permitted(0x3f8, 2)));          // 3f8-3f9
  EXPECT_TRUE(Faulted(cpu.io_permitted(0x3f9, 2), kGP, 0));  // 3f9-3fa
  EXPECT_TRUE(Faulted(cpu.io_permitted(0x3f8, 4), kGP, 0));  // 3f8-3fb
  EXPECT_TRUE(Faulted(cpu.io_permitted(0x3f7, 4), kGP, 0));  // 3f7-3fa, across a byte
  EXPECT_TRUE(NoFault(cpu.io_permitted(0x3fb, 4)));          // 3fb-3fe
}

TEST_F(PortIo, MultiByteAccessAcrossABitmapByteBoundary) {
  enter_ring(3);
  deny(0x400);
  EXPECT_TRUE(NoFault(cpu.io_permitted(0x3fe, 2)));
  EXPECT_TRUE(Faulted(cpu.io_permitted(0x3ff, 2), kGP, 0));
  EXPECT_TRUE(Faulted(cpu.io_permitted(0x3fd, 4), kGP, 0));
}

TEST_F(PortIo, LastPortUsesTheTrailingByte) {
  enter_ring(3);
  EXPECT_TRUE(NoFault(cpu.io_permitted(0xffff, 1)));
  deny(0xffff);
  EXPECT_TRUE(Faulted(cpu.io_permitted(0xffff, 1), kGP, 0));
}

TEST_F(PortIo, BitmapBeyondTheTssLimitDenies) {
  enter_ring(3);
  // The bitmap covers ports 0..0x7f plus one byte: the CPU reads two bytes, both must be
  // within the limit.
  v.tr.limit = kIoMapOffset + 0x10;
  EXPECT_TRUE(NoFault(cpu.io_permitted(0x70, 1)));          // bytes 0x0e, 0x0f
  EXPECT_TRUE(NoFault(cpu.io_permitted(0x78, 1)));          // bytes 0x0f, 0x10 (the limit)
  EXPECT_TRUE(Faulted(cpu.io_permitted(0x80, 1), kGP, 0));  // byte 0x11 is beyond
  EXPECT_TRUE(Faulted(cpu.io_permitted(0x3f8, 1), kGP, 0));
}

TEST_F(PortIo, BitmapBaseAtOrBeyondTheLimitMeansNoBitmap) {
  enter_ring(3);
  mem.put16(kTss + 0x66, uint16_t(kTssLimit));
  EXPECT_TRUE(Faulted(cpu.io_permitted(0, 1), kGP, 0));
  mem.put16(kTss + 0x66, 0xffff);
  EXPECT_TRUE(Faulted(cpu.io_permitted(0, 1), kGP, 0));
}

TEST_F(PortIo, NoUsableTssDenies) {
  enter_ring(3);
  v.tr.limit = 0x66;  // too small for a 32-bit TSS
  EXPECT_TRUE(Faulted(cpu.io_permitted(0x3f8, 1), kGP, 0));
  v.tr = Segment{};
  EXPECT_TRUE(Faulted(cpu.io_permitted(0x3f8, 1), kGP, 0));
}

TEST_F(PortIo, RealModeHasNoChecks) {
  v.cr0 = cr0::ET;
  v.cpl = 3;
  v.tr = Segment{};
  EXPECT_TRUE(NoFault(cpu.io_permitted(0x3f8, 1)));
}

}  // namespace
}  // namespace cpu::testing
