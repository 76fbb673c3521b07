// The loaders' pure parts: the PC memory map, free-RAM placement, the ACPI tables, the zero
// page and the bzImage setup header checks.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "acpi_tables.h"
#include "cpu/model.h"
#include "devices/acpi_pm.h"
#include "free_ram.h"
#include "linux_setup_header.h"
#include "load_error.h"
#include "module_list.h"
#include "pc_memory_map.h"
#include "zero_page.h"

namespace monitor {
namespace {

TEST(PcMemoryMap, LegacyHolesAndRamFromOneMiB) {
  const auto map = pc_memory_map(64ull << 20);
  ASSERT_EQ(map.size(), 4u);
  EXPECT_EQ(map[0].addr, 0u);
  EXPECT_EQ(map[0].len, 0x9fc00u);
  EXPECT_EQ(map[0].type, E820Type::Ram);
  EXPECT_EQ(map[1].addr, 0x9fc00u);
  EXPECT_EQ(map[1].type, E820Type::Reserved);
  EXPECT_EQ(map[2].addr, 0xe0000u);
  EXPECT_EQ(map[2].len, 0x20000u);
  EXPECT_EQ(map[2].type, E820Type::Reserved);
  EXPECT_EQ(map[3].addr, 0x100000u);
  EXPECT_EQ(map[3].addr + map[3].len, 64ull << 20);
  EXPECT_EQ(conventional_ram(map), 0x9fc00u);
  EXPECT_EQ(ram_above_1m(map), (63ull << 20));
}

TEST(PcMemoryMap, SmallRamIsClipped) {
  const auto map = pc_memory_map(512 << 10);
  ASSERT_EQ(map.size(), 1u);
  EXPECT_EQ(map[0].len, 512u << 10);
}

TEST(FreeRam, PlacesAroundTakenRangesAndNeverInPageZero) {
  FreeRam ram(pc_memory_map(8 << 20));
  EXPECT_FALSE(ram.is_free(0, 16));
  EXPECT_TRUE(ram.is_free(0x1000, 0x9e000));
  EXPECT_FALSE(ram.is_free(0x9f000, 0x1000));  // crosses into the EBDA
  ram.take(0x100000, 0x200000);
  EXPECT_EQ(ram.take_low(0x1000, 0x1000, 0x100000), 0x300000u);
  EXPECT_EQ(ram.take_high(0x2000, 0x1000), (8u << 20) - 0x2000);
  EXPECT_EQ(ram.take_high(0x1800, 0x1000), (8u << 20) - 0x4000);  // aligned down
  EXPECT_EQ(ram.take_low(16, 16), 0x1000u);
  EXPECT_EQ(ram.take_low(16, 16), 0x1010u);
  EXPECT_FALSE(ram.take_low(16u << 20, 0x1000).has_value());
  EXPECT_FALSE(ram.take_high(0x1000, 0x1000, 0, 0x1000).has_value());
}

uint32_t get32(const std::vector<uint8_t>& b, uint32_t off) {
  uint32_t v;
  std::memcpy(&v, &b[off], 4);
  return v;
}

TEST(AcpiTables, ChecksumsPointersAndS5) {
  constexpr uint32_t kBase = 0xe0000;
  const auto t = build_acpi_tables(kBase);
  using L = AcpiLayout;
  EXPECT_EQ(std::string(t.begin(), t.begin() + 8), "RSD PTR ");
  EXPECT_EQ(acpi_checksum(&t[L::kRsdp], 20), 0);
  EXPECT_EQ(get32(t, L::kRsdp + 16), kBase + L::kRsdt);
  for (uint32_t off : {L::kRsdt, L::kFadt, L::kDsdt}) {
    EXPECT_EQ(acpi_checksum(&t[off], get32(t, off + 4)), 0) << off;
    EXPECT_LE(off + get32(t, off + 4), t.size());
  }
  EXPECT_EQ(get32(t, L::kRsdt + 36), kBase + L::kFadt);
  EXPECT_EQ(std::string(&t[L::kFadt], &t[L::kFadt] + 4), "FACP");
  EXPECT_EQ(get32(t, L::kFadt + 36), kBase + L::kFacs);
  EXPECT_EQ(get32(t, L::kFadt + 40), kBase + L::kDsdt);
  EXPECT_EQ(get32(t, L::kFadt + 56), devices::AcpiPm::kPm1aEvtBase);
  EXPECT_EQ(get32(t, L::kFadt + 64), devices::AcpiPm::kPm1aCntBase);
  EXPECT_EQ(get32(t, L::kFadt + 76), devices::AcpiPmTimer::kPort);  // PM_TMR_BLK
  EXPECT_EQ(t[L::kFadt + 91], 4);                                   // PM_TMR_LEN
  EXPECT_EQ(get32(t, L::kFadt + 112) & (1u << 8), 0u) << "24-bit timer (TMR_VAL_EXT clear)";
  EXPECT_EQ(get32(t, L::kFadt + 48), 0u);  // no SMI command port: ACPI mode from the start
  EXPECT_EQ((kBase + L::kFacs) % 64, 0u);
  // The reset register (FADT revision 2, RESET_REG_SUP): one byte, 0x06, to I/O port 0xcf9.
  EXPECT_GE(t[L::kFadt + 8], 2) << "Linux reads RESET_REG only from FADT revision 2";
  EXPECT_GE(get32(t, L::kFadt + 4), 129u);
  EXPECT_LE(L::kFadt + get32(t, L::kFadt + 4), L::kDsdt) << "the FADT runs into the DSDT";
  EXPECT_NE(get32(t, L::kFadt + 112) & (1u << 10), 0u) << "RESET_REG_SUP";
  EXPECT_EQ(t[L::kFadt + 116], 1) << "RESET_REG in system I/O space";
  EXPECT_EQ(t[L::kFadt + 117], 8) << "an 8-bit register";
  EXPECT_EQ(t[L::kFadt + 118], 0) << "at bit 0";
  EXPECT_EQ(get32(t, L::kFadt + 120), 0xcf9u);
  EXPECT_EQ(get32(t, L::kFadt + 124), 0u);
  EXPECT_EQ(t[L::kFadt + 128], 0x06) << "RESET_VALUE";
  const std::string dsdt(t.begin() + L::kDsdt + 36, t.end());
  const std::string s5 = std::string("\x08_S5_\x12\x08\x04\x0a", 9) + char(5) + "\x0a" + char(5);
  EXPECT_NE(dsdt.find(s5), std::string::npos);
}

// A minimal 2.15 header in a file of `size` bytes.
std::vector<uint8_t> fake_bzimage(size_t size = 0x2000) {
  std::vector<uint8_t> img(size, 0);
  auto put = [&](uint32_t off, uint64_t v, unsigned w) { std::memcpy(&img[off], &v, w); };
  put(0x1f1, 1, 1);                   // setup_sects
  put(0x1f4, (size - 1024) / 16, 4);  // syssize
  put(0x1fe, 0xaa55, 2);
  put(0x200, 0x6aeb, 2);  // header ends at 0x26c
  std::memcpy(&img[0x202], "HdrS", 4);
  put(0x206, 0x020f, 2);
  put(0x211, 1, 1);  // LOADED_HIGH
  put(0x214, 0x100000, 4);
  put(0x22c, 0x7fffffff, 4);
  put(0x230, 0x1000000, 4);
  put(0x234, 1, 1);  // relocatable
  put(0x238, 2047, 4);
  put(0x258, 0x1000000, 8);
  put(0x260, 0x100000, 4);
  return img;
}

TEST(SetupHeader, ParsesTheFieldsTheLoaderNeeds) {
  auto img = fake_bzimage();
  const SetupHeader h = parse_setup_header(img, "k");
  EXPECT_EQ(h.version, 0x020f);
  EXPECT_EQ(h.setup_bytes, 1024u);
  EXPECT_EQ(h.pm_bytes, 0x2000u - 1024);
  EXPECT_EQ(h.header_end, 0x26cu);
  EXPECT_EQ(h.load_address(), 0x1000000u);
  EXPECT_FALSE(h.required_features.has_value());
  img[0x234] = 0;  // not relocatable: code32_start
  EXPECT_EQ(parse_setup_header(img, "k").load_address(), 0x100000u);
}

TEST(SetupHeader, RelocatableKernelsAreAlignedUp) {
  auto img = fake_bzimage();
  const uint64_t pref = 0x1234000;
  std::memcpy(&img[0x258], &pref, 8);
  EXPECT_EQ(parse_setup_header(img, "k").load_address(), 0x2000000u);
}

TEST(SetupHeader, FindsTheRequiredFeaturesAfterTheForcepaeString) {
  auto img = fake_bzimage();
  const char s[] = "Use parameter 'forcepae' to enable at your own risk!\n";
  std::memcpy(&img[0x300], s, sizeof s);
  const uint32_t req = cpu::feature::FPU | cpu::feature::PAE | cpu::feature::CMOV;
  std::memcpy(&img[0x340], &req, 4);
  EXPECT_EQ(parse_setup_header(img, "k").required_features, req);
  const uint32_t junk = 0x8db40aeb;  // not made of requirable bits: unknown, not guessed
  std::memcpy(&img[0x340], &junk, 4);
  EXPECT_FALSE(parse_setup_header(img, "k").required_features.has_value());
}

TEST(SetupHeader, RefusesWhatCannotBeBooted) {
  auto refused = [](std::vector<uint8_t> img, const char* what) {
    try {
      parse_setup_header(img, "k");
    } catch (const LoadError& e) {
      return std::string(e.what()).find(what) != std::string::npos;
    }
    return false;
  };
  auto with = [](uint32_t off, uint64_t v, unsigned w) {
    auto img = fake_bzimage();
    std::memcpy(&img[off], &v, w);
    return img;
  };
  EXPECT_TRUE(refused(with(0x202, 0, 4), "not a Linux bzImage"));
  EXPECT_TRUE(refused(with(0x206, 0x0209, 2), "too old"));
  EXPECT_TRUE(refused(with(0x236, 1, 2), "64-bit"));
  EXPECT_TRUE(refused(with(0x211, 0, 1), "zImage"));
  EXPECT_TRUE(refused(with(0x230, 0x3000, 4), "kernel_alignment"));
  EXPECT_TRUE(refused(with(0x258, 0x100000000ull, 8), "loaded at"));
  EXPECT_TRUE(refused(with(0x260, 0, 4), "init_size"));
  EXPECT_TRUE(refused(with(0x1f4, 0x10000000, 4), "truncated"));
  EXPECT_TRUE(refused(with(0x201, 0x90, 1), "it ends"));
  auto cut = fake_bzimage();
  cut.resize(0x240);
  EXPECT_TRUE(refused(cut, "cut short"));
}

TEST(ZeroPage, HeaderLoaderFieldsAndE820) {
  auto img = fake_bzimage();
  ZeroPageFields f;
  f.header.assign(img.begin() + 0x1f1, img.begin() + 0x26c);
  f.e820 = pc_memory_map(32 << 20);
  f.load_address = 0x1000000;
  f.cmdline_addr = 0x3000;
  f.initrd_addr = 0x1f00000;
  f.initrd_size = 0x1234;
  f.rsdp_addr = 0xe0000;
  const auto p = build_zero_page(f);
  EXPECT_EQ(std::memcmp(&p[0x202], "HdrS", 4), 0);
  EXPECT_EQ(p[zp::kTypeOfLoader], 0xff);
  EXPECT_EQ(p[zp::kLoadflags], kLoadedHigh | kCanUseHeap);
  auto at32 = [&](uint32_t off) {
    uint32_t v;
    std::memcpy(&v, &p[off], 4);
    return v;
  };
  EXPECT_EQ(at32(zp::kCode32Start), 0x1000000u);
  EXPECT_EQ(at32(zp::kCmdLinePtr), 0x3000u);
  EXPECT_EQ(at32(zp::kRamdiskImage), 0x1f00000u);
  EXPECT_EQ(at32(zp::kRamdiskSize), 0x1234u);
  EXPECT_EQ(at32(zp::kAcpiRsdpAddr), 0xe0000u);
  EXPECT_EQ(at32(zp::kAltMemK), 31u * 1024);
  ASSERT_EQ(p[zp::kE820Entries], 4);
  EXPECT_EQ(at32(zp::kE820Table + 3 * 20), 0x100000u);      // addr (low half)
  EXPECT_EQ(at32(zp::kE820Table + 3 * 20 + 8), 31u << 20);  // len
  EXPECT_EQ(at32(zp::kE820Table + 3 * 20 + 16), 1u);        // RAM
  EXPECT_EQ(p[0x1ef], 0);  // sentinel: the loader did not copy stray bytes
}

TEST(ModuleList, QemuInitrdConvention) {
  const auto m = parse_module_list("a.bin x=1 y,,z,b.bin,,,c");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].path, "a.bin");
  EXPECT_EQ(m[0].cmdline, "a.bin x=1 y,z");
  EXPECT_EQ(m[1].path, "b.bin,");
  EXPECT_EQ(m[1].cmdline, "b.bin,");
  EXPECT_EQ(m[2].path, "c");
  EXPECT_TRUE(parse_module_list("").empty());
  EXPECT_EQ(parse_module_list(",d,").size(), 1u);
}

}  // namespace
}  // namespace monitor
