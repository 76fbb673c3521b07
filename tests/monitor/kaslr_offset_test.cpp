// KaslrOffset and GuestSymbols: a relocated i386 kernel's startup_32 gives the offset, and
// names follow it.
#include "kaslr_offset.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "guest_symbols.h"

namespace monitor {
namespace {

// movl imm32(initial_stack), %ecx; lgdt imm32(boot_gdt_descr); then more code.
std::vector<uint8_t> startup_32_code(uint32_t stack, uint32_t gdt) {
  std::vector<uint8_t> c = {0x8b, 0x0d};
  for (int i = 0; i < 4; ++i) c.push_back(uint8_t(stack >> (8 * i)));
  c.insert(c.end(), {0x0f, 0x01, 0x15});
  for (int i = 0; i < 4; ++i) c.push_back(uint8_t(gdt >> (8 * i)));
  c.insert(c.end(), {0xb8, 0x18, 0x00, 0x00, 0x00});
  return c;
}

TEST(KaslrOffset, LearnsTheOffsetFromTheRelocatedEntry) {
  KaslrOffset k(0x1000000);
  const uint32_t at = 0x5000000;
  EXPECT_FALSE(k.observe(0x100000, startup_32_code(0x200000, 0x200100)));         // below the entry
  EXPECT_FALSE(k.observe(at + 0x10, startup_32_code(at + 0x1000, at + 0x2000)));  // unaligned
  EXPECT_FALSE(k.observe(at, startup_32_code(at - 0x1000, at + 0x2000)));         // data below it
  EXPECT_FALSE(k.observe(at, startup_32_code(at + 0x1000, at + (80u << 20))));    // too far
  auto other = startup_32_code(at + 0x1000, at + 0x2000);
  other[7] = 0x11;  // not lgdt
  EXPECT_FALSE(k.observe(at, other));
  EXPECT_FALSE(k.offset());
  EXPECT_TRUE(k.observe(at, startup_32_code(at + 0x1234000, at + 0x1300000)));
  EXPECT_EQ(k.offset(), 0x4000000u);
  EXPECT_FALSE(k.observe(0x1000000, startup_32_code(0x1100000, 0x1200000))) << "learned once";
  EXPECT_EQ(k.offset(), 0x4000000u);
}

TEST(KaslrOffset, GuestSymbolsNameTheMovedKernel) {
  char path[] = "/tmp/bt86-kaslr-map-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string map =
      "c1000000 T startup_32\nc1000000 T _text\nc1234560 T do_idle\nc1234600 t next_fn\n";
  ASSERT_EQ(write(fd, map.data(), map.size()), ssize_t(map.size()));
  close(fd);
  GuestSymbols s(path);
  std::remove(path);
  EXPECT_EQ(s.name(0xc1234560), "do_idle");
  EXPECT_EQ(s.offset(), 0u);
  // Relocated by 0x3000000: physically at 0x4000000, virtually at 0xc4000000.
  ASSERT_TRUE(s.observe(0x4000000, startup_32_code(0x4800000, 0x4900000)));
  EXPECT_EQ(s.offset(), 0x3000000u);
  EXPECT_EQ(s.name(0xc4234560), "do_idle");
  EXPECT_EQ(s.name(0xc4234564), "do_idle+0x4");
  EXPECT_EQ(s.name(0xc4234600), "next_fn");
}

TEST(KaslrOffset, AMapWithoutStartup32IsNeverMoved) {
  char path[] = "/tmp/bt86-kaslr-map-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string map = "0010000c T _start\n00100100 T main\n";
  ASSERT_EQ(write(fd, map.data(), map.size()), ssize_t(map.size()));
  close(fd);
  GuestSymbols s(path);
  std::remove(path);
  EXPECT_FALSE(s.observe(0x4000000, startup_32_code(0x4800000, 0x4900000)));
  EXPECT_EQ(s.name(0x100104), "main+0x4");
}

}  // namespace
}  // namespace monitor
