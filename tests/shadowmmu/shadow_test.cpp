// The shadow's fill decisions with a real window: hidden faults map the guest's frame with the
// rights it allows (read-only until dirty, or while the frame holds code or page tables), true
// faults give the #PF error code, frames outside RAM are refused; page-table traces drop what
// changed entries made; CR3 writes keep global mappings; ring-3 entry drops supervisor ones.
#include "shadowmmu/shadow.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace {

using Outcome = shadowmmu::Shadow::Outcome;
constexpr uint32_t kP = 1, kRW = 2, kUS = 4, kA = 0x20, kD = 0x40, kG = 0x100;
constexpr uint32_t kDir = 0x1000, kTable = 0x2000, kFrame = 0x9000, kLinear = 0x40000000;
constexpr uint32_t kDir2 = 0x5000;  // an empty page directory

class ShadowTest : public ::testing::Test {
 protected:
  ShadowTest() : as_(1u << 20), shadow_(as_, v_) {
    v_.cr0 = cpu::cr0::PE | cpu::cr0::PG | cpu::cr0::WP;
    v_.cr3 = kDir;
    as_.unmap_window();
    set(kDir + (kLinear >> 22) * 4, kTable | kP | kRW | kUS);
  }
  void switch_cr3(uint32_t cr3) {
    const uint32_t old = v_.cr3;
    v_.cr3 = cr3;
    shadow_.cr3_written(old);
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
  // The PTE of window page `linear` (all test pages share one page table).
  void map_at(uint32_t linear, uint32_t frame_bits) {
    set(kTable + ((linear >> 12) & 0x3ff) * 4, frame_bits);
  }
  // The host's protection of the window page at `linear` ("---" when nothing is mapped), from
  // /proc/self/maps: a write test through a read-only page would kill the test.
  static std::string prot(uint32_t linear) {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
      unsigned long lo, hi;
      char perms[5] = {};
      if (std::sscanf(line.c_str(), "%lx-%lx %4s", &lo, &hi, perms) == 3 && linear >= lo &&
          linear < hi)
        return std::string(perms, 3);
    }
    return "";
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

TEST_F(ShadowTest, Cr3WriteAndInvlpgDropTheMapping) {
  map(kP | kRW | kUS | kD);
  ASSERT_EQ(shadow_.fill(kLinear, false, true).outcome, Outcome::Mapped);
  switch_cr3(kDir2);
  EXPECT_EQ(shadow_.stats().cr3_switches, 1u);
  EXPECT_EQ(shadow_.mapped_pages(), 0u);
  // The page is gone: a fresh fill is needed again (and counted).
  EXPECT_EQ(shadow_.fill(kLinear, false, true).outcome, Outcome::GuestFault);  // kDir2 is empty
  v_.cr3 = kDir;
  ASSERT_EQ(shadow_.fill(kLinear, false, true).outcome, Outcome::Mapped);
  EXPECT_EQ(shadow_.stats().hidden_faults, 2u);
  shadow_.invlpg(kLinear);
  EXPECT_EQ(shadow_.stats().invlpg, 1u);
  EXPECT_EQ(shadow_.mapped_pages(), 0u);
}

constexpr uint32_t kAlias = kLinear + 0x10000;  // where the page table itself is mapped

TEST_F(ShadowTest, PageTablesAreReadOnlyWhileMappingsUseThem) {
  map(kP | kRW | kUS | kD);
  map_at(kAlias, kTable | kP | kRW | kUS | kD);
  ASSERT_EQ(shadow_.fill(kAlias, true, false).outcome, Outcome::Mapped);
  // The alias was made from the table's own entry: the table is traced, the alias read-only.
  EXPECT_TRUE(shadow_.is_table(kTable));
  EXPECT_TRUE(shadow_.is_table(kDir));
  EXPECT_EQ(prot(kAlias), "r--");
  ASSERT_EQ(shadow_.fill(kLinear, true, false).outcome, Outcome::Mapped);
  EXPECT_EQ(prot(kLinear), "rw-");
  EXPECT_FALSE(shadow_.is_table(kFrame));
}

TEST_F(ShadowTest, TableWriteDropsOnlyWhatTheChangedEntriesMade) {
  map(kP | kRW | kUS | kD);
  map_at(kLinear + 0x1000, (kFrame + 0x1000) | kP | kRW | kUS | kD);
  map_at(kAlias, kTable | kP | kRW | kUS | kD);
  for (uint32_t l : {kLinear, kLinear + 0x1000, kAlias})
    ASSERT_EQ(shadow_.fill(l, false, false).outcome, Outcome::Mapped);
  ASSERT_EQ(shadow_.mapped_pages(), 3u);

  // The guest's write runs with the table writable at the alias, and only then.
  shadow_.table_write_begin(kAlias);
  EXPECT_EQ(prot(kAlias), "rw-");
  at(kAlias)[(kLinear >> 12) & 0x3ff] = (kFrame + 0x2000) | kP | kRW | kUS;
  const uint32_t next = ((kLinear >> 12) & 0x3ff) + 1;
  at(kAlias)[next] = at(kAlias)[next];  // a write that changes nothing drops nothing
  shadow_.table_write_end();
  EXPECT_EQ(prot(kAlias), "r--");
  EXPECT_EQ(prot(kLinear), "---");  // its entry changed: the old frame is no longer reachable
  EXPECT_EQ(prot(kLinear + 0x1000), "rw-");
  EXPECT_EQ(shadow_.stats().table_writes, 1u);
  EXPECT_EQ(shadow_.stats().entries_changed, 1u);
  EXPECT_EQ(shadow_.stats().table_drops, 1u);
  // The next access walks the new entry.
  set(kFrame + 0x2000, 0x5a5a);
  ASSERT_EQ(shadow_.fill(kLinear, false, false).outcome, Outcome::Mapped);
  EXPECT_EQ(*at(kLinear), 0x5a5au);
}

TEST_F(ShadowTest, NewAccessedUserEntriesAreMappedAtOnce) {
  map(kP | kRW | kUS | kD);
  map_at(kAlias, kTable | kP | kRW | kUS | kD);
  ASSERT_EQ(shadow_.fill(kLinear, false, false).outcome, Outcome::Mapped);
  ASSERT_EQ(shadow_.fill(kAlias, false, false).outcome, Outcome::Mapped);
  const uint32_t i = (kLinear >> 12) & 0x3ff;
  shadow_.table_write_begin(kAlias);
  at(kAlias)[i + 1] = (kFrame + 0x1000) | kP | kRW | kUS | kA | kD;  // as Linux makes them
  at(kAlias)[i + 2] = (kFrame + 0x2000) | kP | kRW | kUS;            // never accessed
  at(kAlias)[i + 3] = (kFrame + 0x3000) | kP | kRW | kA | kD;        // supervisor
  shadow_.table_write_end();
  EXPECT_EQ(prot(kLinear + 0x1000), "rw-");
  EXPECT_EQ(prot(kLinear + 0x2000), "---");
  EXPECT_EQ(get(kTable + (i + 2) * 4) & kA, 0u);  // still as the guest wrote it
  EXPECT_EQ(prot(kLinear + 0x3000), "---");
  EXPECT_EQ(shadow_.stats().table_updates, 1u);
}

TEST_F(ShadowTest, DirectoryWriteDropsTheRegionAndMonitorWritesCount) {
  map(kP | kRW | kUS | kD);
  ASSERT_EQ(shadow_.fill(kLinear, false, false).outcome, Outcome::Mapped);
  // The monitor writing the PDE through the physmap (e.g. an exception frame on that page).
  const uint32_t pde_pa = kDir + (kLinear >> 22) * 4;
  shadow_.note_write(pde_pa, 4);
  EXPECT_EQ(shadow_.mapped_pages(), 0u);
  EXPECT_EQ(shadow_.stats().table_drops, 1u);
  // With its last mapping gone, the table stays traced, idle, until it is written.
  EXPECT_TRUE(shadow_.is_table(kTable));
}

TEST_F(ShadowTest, AWriteToAnIdleTableReleasesIt) {
  // The table is also mapped through a second table, in the next 4 MiB.
  constexpr uint32_t kTable2 = 0x3000, kAlias2 = kLinear + 0x400000;
  set(kDir + (kAlias2 >> 22) * 4, kTable2 | kP | kRW | kUS);
  set(kTable2, kTable | kP | kRW | kUS | kD);
  map(kP | kRW | kUS | kD);
  ASSERT_EQ(shadow_.fill(kLinear, false, false).outcome, Outcome::Mapped);
  ASSERT_EQ(shadow_.fill(kAlias2, false, false).outcome, Outcome::Mapped);
  EXPECT_EQ(prot(kAlias2), "r--");
  shadow_.invlpg(kLinear);  // the table is idle now
  EXPECT_TRUE(shadow_.is_table(kTable));
  shadow_.table_write_begin(kAlias2);
  EXPECT_FALSE(shadow_.table_write_open());  // nothing to watch: released instead
  EXPECT_FALSE(shadow_.is_table(kTable));
  EXPECT_EQ(prot(kAlias2), "rw-");
  EXPECT_EQ(shadow_.stats().tables_released, 1u);
}

// A known page-table writer (its write redirected to the physmap, bt::WriteWatch) costs no
// host call: the idle table stays traced for the next use (Linux's text_poke rewrites the
// same entry thousands of times at boot), and the next mapping through it needs no re-trace.
TEST_F(ShadowTest, AWatchedWriteToAnIdleTableKeepsItTraced) {
  map(kP | kRW | kUS | kA | kD);
  ASSERT_EQ(shadow_.fill(kLinear, false, false).outcome, Outcome::Mapped);
  shadow_.invlpg(kLinear);  // the table is idle now
  const auto calls = as_.host_calls();
  const uint64_t traced = shadow_.stats().tables_traced;
  const uint32_t entry = kTable + ((kLinear >> 12) & 0x3ff) * 4;
  shadow_.table_write_watched(entry, 4);
  map(kP | kRW | kUS);  // the write itself, through the physmap (A clear: not mapped at once)
  shadow_.table_write_end();
  EXPECT_TRUE(shadow_.is_table(kTable));
  EXPECT_EQ(shadow_.stats().tables_released, 0u);
  EXPECT_EQ(shadow_.stats().table_writes, 1u);
  ASSERT_EQ(shadow_.fill(kLinear, false, false).outcome, Outcome::Mapped);
  // One mmap for the page, nothing for the table: it was never made writable and back.
  EXPECT_EQ(as_.host_calls().maps, calls.maps + 1);
  EXPECT_EQ(as_.host_calls().protects, calls.protects);
  EXPECT_EQ(as_.host_calls().unmaps, calls.unmaps);
  EXPECT_EQ(shadow_.stats().tables_traced, traced);
}

TEST_F(ShadowTest, HostCallsCountEveryWindowChange) {
  const auto before = as_.host_calls();
  map(kP | kRW | kUS | kA | kD);
  ASSERT_EQ(shadow_.fill(kLinear, true, false).outcome, Outcome::Mapped);
  EXPECT_EQ(as_.host_calls().maps, before.maps + 1);
  shadow_.invlpg(kLinear);
  EXPECT_EQ(as_.host_calls().unmaps, before.unmaps + 1);
  ASSERT_TRUE(as_.protect_pages(kLinear, 2, PROT_NONE, shadowmmu::Ring3::Denied));
  EXPECT_EQ(as_.host_calls().protects, before.protects + 1);
  EXPECT_NE(as_.host_calls().report().find("host calls changing the window"), std::string::npos);
}

TEST_F(ShadowTest, Cr3WriteKeepsGlobalMappingsUntilInvlpg) {
  v_.cr4 = cpu::cr4::PGE;
  map(kP | kRW | kD | kG);
  map_at(kLinear + 0x1000, (kFrame + 0x1000) | kP | kRW | kD);
  ASSERT_EQ(shadow_.fill(kLinear, false, false).outcome, Outcome::Mapped);
  ASSERT_EQ(shadow_.fill(kLinear + 0x1000, false, false).outcome, Outcome::Mapped);
  switch_cr3(kDir2);
  EXPECT_EQ(prot(kLinear), "rw-");
  EXPECT_EQ(prot(kLinear + 0x1000), "---");
  EXPECT_EQ(shadow_.stats().globals_kept, 1u);
  shadow_.invlpg(kLinear);
  EXPECT_EQ(prot(kLinear), "---");
}

TEST_F(ShadowTest, AGlobalFlushDropsOnlyGlobalMappings) {
  v_.cr4 = cpu::cr4::PGE;
  map(kP | kRW | kD | kG);
  map_at(kLinear + 0x1000, (kFrame + 0x1000) | kP | kRW | kD);
  ASSERT_EQ(shadow_.fill(kLinear, false, false).outcome, Outcome::Mapped);
  ASSERT_EQ(shadow_.fill(kLinear + 0x1000, false, false).outcome, Outcome::Mapped);
  shadow_.drop_globals();
  EXPECT_EQ(prot(kLinear), "---");
  EXPECT_EQ(prot(kLinear + 0x1000), "rw-");  // follows the current tables (traced)
  EXPECT_EQ(shadow_.stats().global_flushes, 1u);
}

TEST_F(ShadowTest, EnteringUserDropsOnlyWhatRing3MayNotUse) {
  v_.cr0 &= ~cpu::cr0::WP;
  map(kP | kRW | kD);                                                 // supervisor only
  map_at(kLinear + 0x1000, (kFrame + 0x1000) | kP | kUS | kD);        // user read-only...
  map_at(kLinear + 0x2000, (kFrame + 0x2000) | kP | kRW | kUS | kD);  // user writable
  ASSERT_EQ(shadow_.fill(kLinear, false, false).outcome, Outcome::Mapped);
  // ... which ring 0 may write with WP clear: writable as mapped, so not for ring 3.
  ASSERT_EQ(shadow_.fill(kLinear + 0x1000, true, false).outcome, Outcome::Mapped);
  ASSERT_EQ(shadow_.fill(kLinear + 0x2000, true, false).outcome, Outcome::Mapped);
  EXPECT_EQ(prot(kLinear + 0x1000), "rw-");
  shadow_.entering_user();
  EXPECT_EQ(prot(kLinear), "---");
  EXPECT_EQ(prot(kLinear + 0x1000), "---");
  EXPECT_EQ(prot(kLinear + 0x2000), "rw-");
  EXPECT_EQ(shadow_.stats().supervisor_parked, 2u);
  // Rights changing meanwhile do not make a parked page reachable.
  shadow_.protect_phys(kFrame);
  EXPECT_EQ(prot(kLinear), "---");
  // Back in ring 0 they stay parked until an access faults: then their run comes back as it
  // was, and is parked again at the next entry to ring 3.
  ASSERT_EQ(shadow_.fill(kLinear, true, false).outcome, Outcome::Mapped);
  EXPECT_EQ(prot(kLinear), "rw-");
  EXPECT_EQ(prot(kLinear + 0x1000), "rw-");
  EXPECT_EQ(shadow_.stats().supervisor_unparked, 2u);
  shadow_.entering_user();
  EXPECT_EQ(prot(kLinear), "---");
  EXPECT_EQ(shadow_.stats().supervisor_parked, 4u);
  // Ring 3 filling the read-only user page gets it read-only, and keeps it.
  ASSERT_EQ(shadow_.fill(kLinear + 0x1000, false, true).outcome, Outcome::Mapped);
  EXPECT_EQ(prot(kLinear + 0x1000), "r--");
  shadow_.entering_user();
  EXPECT_EQ(prot(kLinear + 0x1000), "r--");
  EXPECT_EQ(prot(kLinear), "---");
}

TEST_F(ShadowTest, Ring0UnparksOnlyARunOfTheSameRightsAndRemakesWhatItMakesDirty) {
  map(kP | kRW | kD);                                           // supervisor, dirty
  map_at(kLinear + 0x1000, (kFrame + 0x1000) | kP | kRW);       // supervisor, clean
  map_at(kLinear + 0x2000, (kFrame + 0x2000) | kP | kRW | kD);  // supervisor, dirty
  for (uint32_t i = 0; i < 3; ++i)
    ASSERT_EQ(shadow_.fill(kLinear + i * 0x1000, false, false).outcome, Outcome::Mapped);
  EXPECT_EQ(prot(kLinear + 0x1000), "r--");  // read-only until the first write sets D
  shadow_.entering_user();
  EXPECT_EQ(shadow_.stats().supervisor_parked, 3u);
  // A read of the first page: its run ends where the rights differ.
  ASSERT_EQ(shadow_.fill(kLinear, false, false).outcome, Outcome::Mapped);
  EXPECT_EQ(prot(kLinear), "rw-");
  EXPECT_EQ(prot(kLinear + 0x1000), "---");
  EXPECT_EQ(prot(kLinear + 0x2000), "---");
  EXPECT_EQ(shadow_.stats().supervisor_unparked, 1u);
  // A write to the clean page sets D: it is made afresh, writable, not unparked read-only.
  ASSERT_EQ(shadow_.fill(kLinear + 0x1000, true, false).outcome, Outcome::Mapped);
  EXPECT_EQ(prot(kLinear + 0x1000), "rw-");
  EXPECT_EQ(prot(kLinear + 0x2000), "---");
  EXPECT_EQ(shadow_.stats().supervisor_unparked, 1u);
  // Ring 3 never unparks: its access to a supervisor page is the guest's #PF.
  EXPECT_EQ(shadow_.fill(kLinear + 0x2000, false, true).outcome, Outcome::GuestFault);
  EXPECT_EQ(prot(kLinear + 0x2000), "---");
}

TEST_F(ShadowTest, ASpaceGetsItsAccessedMappingsBackWithItsCr3) {
  map(kP | kRW | kUS | kD);
  map_at(kLinear + 0x1000, (kFrame + 0x1000) | kP | kRW | kUS | kD);
  ASSERT_EQ(shadow_.fill(kLinear, true, true).outcome, Outcome::Mapped);
  ASSERT_EQ(shadow_.fill(kLinear + 0x1000, false, true).outcome, Outcome::Mapped);
  switch_cr3(kDir2);
  EXPECT_EQ(shadow_.mapped_pages(), 0u);
  // Meanwhile the guest unmaps one of the pages.
  map_at(kLinear + 0x1000, 0);
  switch_cr3(kDir);
  EXPECT_EQ(prot(kLinear), "rw-");
  EXPECT_EQ(prot(kLinear + 0x1000), "---");
  EXPECT_EQ(shadow_.stats().restored, 1u);
}

TEST_F(ShadowTest, PrefetchMapsOnlyAccessedNeighboursRing3MayUse) {
  map(kP | kRW | kUS);
  map_at(kLinear + 0x1000, (kFrame + 0x1000) | kP | kRW | kUS | kA);       // accessed, clean
  map_at(kLinear + 0x2000, (kFrame + 0x2000) | kP | kRW | kUS);            // never accessed
  map_at(kLinear + 0x3000, (kFrame + 0x3000) | kP | kRW | kA | kD);        // supervisor
  map_at(kLinear + 0x4000, (kFrame + 0x4000) | kP | kRW | kUS | kA | kD);  // accessed, dirty
  ASSERT_EQ(shadow_.fill(kLinear, false, true).outcome, Outcome::Mapped);
  EXPECT_EQ(shadow_.stats().prefetched, 2u);
  EXPECT_EQ(prot(kLinear + 0x1000), "r--");  // not dirty: the first write must come back
  EXPECT_EQ(prot(kLinear + 0x2000), "---");
  EXPECT_EQ(get(kTable + (((kLinear + 0x2000) >> 12) & 0x3ff) * 4) & kA, 0u);
  EXPECT_EQ(prot(kLinear + 0x3000), "---");
  EXPECT_EQ(prot(kLinear + 0x4000), "rw-");
  // Ring 0 fills only what it touched.
  switch_cr3(kDir2);
  v_.cr3 = kDir;
  ASSERT_EQ(shadow_.fill(kLinear, false, false).outcome, Outcome::Mapped);
  EXPECT_EQ(shadow_.mapped_pages(), 1u);
}

TEST_F(ShadowTest, ProtectionFollowsThePageFlags) {
  map(kP | kRW | kUS | kD);
  ASSERT_EQ(shadow_.fill(kLinear, true, false).outcome, Outcome::Mapped);
  EXPECT_EQ(prot(kLinear), "rw-");
  as_.set_page_flag(kFrame, shadowmmu::AddressSpace::kTraced, true);
  shadow_.protect_phys(kFrame);
  EXPECT_EQ(prot(kLinear), "r--");
  as_.set_page_flag(kFrame, shadowmmu::AddressSpace::kTraced, false);
  as_.set_page_flag(kFrame, shadowmmu::AddressSpace::kDirect, true);
  shadow_.protect_phys(kFrame);
  EXPECT_EQ(prot(kLinear), "r-x");
}

// More mappings than the host allows a process (vm.max_map_count): the shadow starts afresh
// instead of failing. Adjacent pages map frames two apart, so no two mappings merge.
TEST(ShadowLimits, TheHostMappingLimitDropsTheShadowInsteadOfFailing) {
  std::ifstream limit_file("/proc/sys/vm/max_map_count");
  uint32_t limit = 0;
  limit_file >> limit;
  if (limit == 0 || limit > 200000)
    GTEST_SKIP() << "vm.max_map_count is " << limit << ": too high to reach in a unit test";
  shadowmmu::AddressSpace as(16u << 20);
  cpu::Vcpu v;
  v.cr0 = cpu::cr0::PE | cpu::cr0::PG | cpu::cr0::WP;
  v.cr3 = kDir;
  as.unmap_window();
  shadowmmu::Shadow shadow(as, v);
  const uint32_t pages = limit + 2048, tables = (pages + 1023) / 1024;
  auto put = [&](uint32_t pa, uint32_t value) { std::memcpy(as.phys(pa, 4), &value, 4); };
  for (uint32_t t = 0; t < tables; ++t)
    put(kDir + ((kLinear >> 22) + t) * 4, (0x100000 + t * 4096) | kP | kRW | kUS);
  for (uint32_t i = 0; i < pages; ++i)
    put(0x100000 + i * 4, (0x800000 + (i * 2 % 1024) * 4096) | kP | kRW | kUS | kA | kD);
  for (uint32_t i = 0; i < pages; ++i)
    ASSERT_EQ(shadow.fill(kLinear + i * 4096, false, true).outcome, Outcome::Mapped) << i;
  EXPECT_GE(shadow.stats().drops_all, 1u);
  EXPECT_LT(shadow.mapped_pages(), limit);
  const uint32_t last = kLinear + (pages - 1) * 4096;
  EXPECT_EQ(
      *reinterpret_cast<volatile uint32_t*>(uintptr_t(last)),
      *reinterpret_cast<const uint32_t*>(as.phys(0x800000 + ((pages - 1) * 2 % 1024) * 4096, 4)));
  shadow.drop_all();
}

}  // namespace
