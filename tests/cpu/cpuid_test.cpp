// The CPU model bt86 presents through CPUID, and RDTSC/RDMSR/WRMSR (SDM Vol. 2 CPUID, RDTSC).
#include <string>

#include "cpu_fixture.h"

namespace cpu::testing {
namespace {

using Cpuid = CpuTest;

TEST_F(Cpuid, Leaf0GivesMaxLeafAndVendorInEbxEdxEcx) {
  v.gpr[EAX] = 0;
  v.gpr[ECX] = 0xffffffff;
  cpu.cpuid();
  EXPECT_EQ(v.gpr[EAX], 2u);
  std::string vendor(12, '\0');
  std::memcpy(vendor.data() + 0, &v.gpr[EBX], 4);
  std::memcpy(vendor.data() + 4, &v.gpr[EDX], 4);
  std::memcpy(vendor.data() + 8, &v.gpr[ECX], 4);
  EXPECT_EQ(vendor, "GenuineIntel");
}

TEST_F(Cpuid, Leaf1IsAPentiumIIIWithDePseTscMsrMceCx8MtrrPgeMcaCmov) {
  v.gpr[EAX] = 1;
  cpu.cpuid();
  EXPECT_EQ(v.gpr[EAX], 0x6B1u) << "family 6 model 11 stepping 1";
  EXPECT_EQ(v.gpr[EDX], 1u | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 7) | (1u << 8) |
                            (1u << 12) | (1u << 13) | (1u << 14) | (1u << 15) | (1u << 23) |
                            (1u << 24) | (1u << 25));  // + FPU MMX FXSR SSE
  EXPECT_EQ(v.gpr[ECX], 0u);
}

TEST_F(Cpuid, Leaf1DoesNotAdvertiseSysenter) {
  // SEP (EDX bit 11) must stay clear: sysenter/sysexit are not implemented, and guest Linux
  // must fall back to int 0x80.
  v.gpr[EAX] = 1;
  cpu.cpuid();
  EXPECT_EQ(v.gpr[EDX] & (1u << 11), 0u);
}

TEST_F(Cpuid, Leaf1DoesNotAdvertiseFeaturesTheEnginesLack) {
  v.gpr[EAX] = 1;
  cpu.cpuid();
  const uint32_t fpu = 1u << 0, pae = 1u << 6, apic = 1u << 9, mmx = 1u << 23, sse = 1u << 25,
                 fxsr = 1u << 24;
  EXPECT_EQ(v.gpr[EDX] & (pae | apic), 0u);
  (void)fpu, (void)mmx, (void)sse, (void)fxsr;  // implemented now (translated x87/MMX/SSE)
}

TEST_F(Cpuid, LeafAboveMaxReturnsTheHighestBasicLeaf) {
  v.gpr[EAX] = 1;
  cpu.cpuid();
  const uint32_t a = v.gpr[EAX];
  v.gpr[EAX] = 2;
  cpu.cpuid();
  const uint32_t a2 = v.gpr[EAX], d2 = v.gpr[EDX];
  EXPECT_NE(a2, a);
  v.gpr[EAX] = 7;
  cpu.cpuid();
  EXPECT_EQ(v.gpr[EAX], a2);
  EXPECT_EQ(v.gpr[EDX], d2);
  v.gpr[EAX] = 0x80000005;
  cpu.cpuid();
  EXPECT_EQ(v.gpr[EAX], a2);
}

TEST_F(Cpuid, BrandStringFillsLeaves80000002To4) {
  v.gpr[EAX] = 0x80000000;
  cpu.cpuid();
  EXPECT_EQ(v.gpr[EAX], 0x80000004u);
  std::string brand(48, '\0');
  for (uint32_t i = 0; i < 3; ++i) {
    v.gpr[EAX] = 0x80000002 + i;
    cpu.cpuid();
    std::memcpy(brand.data() + 16 * i, &v.gpr[EAX], 4);
    std::memcpy(brand.data() + 16 * i + 4, &v.gpr[EBX], 4);
    std::memcpy(brand.data() + 16 * i + 8, &v.gpr[ECX], 4);
    std::memcpy(brand.data() + 16 * i + 12, &v.gpr[EDX], 4);
  }
  EXPECT_EQ(brand.substr(0, brand.find('\0')), cpu.model().brand);
}

TEST_F(Cpuid, RdtscAtCpl3WithTsdIsGp) {
  v.cr4 = cr4::TSD;
  enter_ring(3);
  v.gpr[EAX] = v.gpr[EDX] = 0xaaaaaaaa;
  EXPECT_TRUE(Faulted(cpu.rdtsc_checked(), kGP, 0));
  EXPECT_EQ(v.gpr[EAX], 0xaaaaaaaau);
  EXPECT_EQ(v.gpr[EDX], 0xaaaaaaaau);
}

TEST_F(Cpuid, RdtscAllowedAtCpl0WithTsdAndAtCpl3Without) {
  v.cr4 = cr4::TSD;
  EXPECT_TRUE(NoFault(cpu.rdtsc_checked()));
  v.cr4 = 0;
  enter_ring(3);
  EXPECT_TRUE(NoFault(cpu.rdtsc_checked()));
}

TEST_F(Cpuid, WrmsrTscSetsTheCounterRdmsrAndRdtscSeeIt) {
  constexpr uint64_t kSet = 0xf0000000;  // a P6 writes bits 31:0 (the upper half becomes 0)
  v.gpr[ECX] = 0x10;
  v.gpr[EAX] = uint32_t(kSet);
  v.gpr[EDX] = uint32_t(kSet >> 32);
  ASSERT_TRUE(NoFault(cpu.wrmsr()));
  ASSERT_TRUE(NoFault(cpu.rdmsr()));
  uint64_t read = (uint64_t(v.gpr[EDX]) << 32) | v.gpr[EAX];
  EXPECT_GE(read, kSet);
  EXPECT_LT(read, kSet + (1ull << 40)) << "the counter keeps running from the written value";
  ASSERT_TRUE(NoFault(cpu.rdtsc_checked()));
  uint64_t later = (uint64_t(v.gpr[EDX]) << 32) | v.gpr[EAX];
  EXPECT_GE(later, read);
}

TEST_F(Cpuid, UnknownMsrIsGp) {
  v.gpr[ECX] = 0x1a0;  // IA32_MISC_ENABLE: not on a P6
  EXPECT_TRUE(Faulted(cpu.rdmsr(), kGP, 0));
  EXPECT_TRUE(Faulted(cpu.wrmsr(), kGP, 0));
}

TEST_F(Cpuid, MsrAccessAtCpl3IsGp) {
  enter_ring(3);
  v.gpr[ECX] = 0x10;
  EXPECT_TRUE(Faulted(cpu.rdmsr(), kGP, 0));
  EXPECT_TRUE(Faulted(cpu.wrmsr(), kGP, 0));
}

}  // namespace
}  // namespace cpu::testing
