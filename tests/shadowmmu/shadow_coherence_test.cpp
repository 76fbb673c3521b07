// The shadow's one promise, checked after every step of random guest activity: whatever the
// host lets code reach in the window, the guest's tables give right now — the same frame, with
// the access allowed for the current ring, and with the entries already accessed (and dirty,
// for a write), so no A/D update is missed. Steps: accesses from ring 0 or 3 (host faults
// go to Shadow::fill), PTE and PDE writes (watched, as translated writers do, or through the
// physmap, as the monitor does; a PDE may become a 4 MiB page), invlpg, CR3 switches between
// two directories sharing a page table, ring changes (parking), CR0.WP changes. Global pages are
// left out: the TLB may keep those across CR3 writes on purpose (tests in shadow_test.cpp).
//
// The same for the confined direct-execution process's window, rebuilt from the changes that
// pass shadowmmu::Ring3Window: at every step, in either ring, it holds only pages ring 3 may
// use as it holds them, exactly the pages the shadow says it should hold (ring3_pages()), and
// each as the monitor's window holds it where that holds it. Run with parking at every entry to
// ring 3, with lazy parking (direct execution: ring-3 code runs in the process's window, and
// parking waits for a translated ring-3 run), and with lazy parking and one process per
// directory (at a CR3 switch the queue is dropped and the new directory's process gets the
// difference to what it should hold, as hostexec::DirectExec does).
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "page_model.h"
#include "shadowmmu/ring3_window.h"
#include "shadowmmu/shadow.h"
#include "shadowmmu/window_model.h"
#include "shadowmmu/window_queue.h"

namespace {

using Outcome = shadowmmu::Shadow::Outcome;
constexpr uint32_t kP = 1, kRW = 2, kUS = 4, kA = 0x20, kD = 0x40, kPS = 0x80;
constexpr uint32_t kDirA = 0x1000, kDirB = 0x2000;
constexpr uint32_t kShared = 0x3000, kTableA = 0x4000, kTableB = 0x5000;  // page tables
constexpr uint32_t kFrames = 0x10000, kFrameCount = 16;                   // tagged data frames
constexpr uint32_t kBase = 0x40000000, kPagesPerTable = 16;
constexpr uint32_t kSlot0 = kBase >> 22, kSlot1 = kSlot0 + 1;

struct Region {
  unsigned long lo, hi, offset;
  std::string perms;
  bool ram;  // guest RAM (the memfd), not an anonymous mapping
};

std::vector<Region> host_maps() {
  std::vector<Region> out;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long lo, hi, off;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s %lx", &lo, &hi, perms, &off) == 4)
      out.push_back({lo, hi, off, std::string(perms, 3), line.find("bt86-ram") != line.npos});
  }
  return out;
}

const Region* region_at(const std::vector<Region>& maps, uint32_t linear) {
  for (const auto& r : maps)
    if (linear >= r.lo && linear < r.hi) return &r;
  return nullptr;
}

std::string perms_at(const std::vector<Region>& maps, uint32_t linear) {
  const Region* r = region_at(maps, linear);
  return r ? r->perms : "---";
}

int prot_of(const std::string& perms) {
  return (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
         (perms[2] == 'x' ? PROT_EXEC : 0);
}

enum class Mode { Parking, Lazy, ProcessPerSpace };

// Seed, and how ring-3 code runs.
class ShadowCoherence : public ::testing::TestWithParam<std::tuple<unsigned, Mode>> {
 protected:
  ShadowCoherence()
      : as_(1u << 20),
        shadow_(as_, v_),
        rng_(std::get<0>(GetParam())),
        lazy_(std::get<1>(GetParam()) != Mode::Parking),
        per_space_(std::get<1>(GetParam()) == Mode::ProcessPerSpace) {
    v_.cr0 = cpu::cr0::PE | cpu::cr0::PG | cpu::cr0::WP;
    v_.cr3 = kDirA;
    v_.cr4 = cpu::cr4::PSE;
    as_.set_window_sink(&ring3_);
    shadow_.set_lazy_parking(lazy_);
    shadow_.set_process_per_space(per_space_);
    as_.unmap_window();
    set(kDirA + kSlot0 * 4, kShared | kP | kRW | kUS);
    set(kDirA + kSlot1 * 4, kTableA | kP | kRW | kUS);
    set(kDirB + kSlot0 * 4, kShared | kP | kRW | kUS);
    set(kDirB + kSlot1 * 4, kTableB | kP | kRW | kUS);
    for (uint32_t i = 0; i < kFrameCount; ++i) set(kFrames + i * 4096, 0xf0000000u | i);
    for (uint32_t table : {kShared, kTableA, kTableB})
      for (uint32_t i = 0; i < kPagesPerTable; ++i) set(table + i * 4, random_pte());
  }
  void set(uint32_t pa, uint32_t v) { std::memcpy(as_.phys(pa, 4), &v, 4); }
  uint32_t pick(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng_); }
  bool chance(unsigned percent) { return pick(100) < percent; }
  uint32_t random_pte() {
    // Mostly data frames; sometimes the shared page table itself (a table seen as data).
    const uint32_t frame = chance(10) ? kShared : kFrames + pick(kFrameCount) * 4096;
    return frame | (chance(85) ? kP : 0) | (chance(60) ? kRW : 0) | (chance(70) ? kUS : 0) |
           (chance(50) ? kA : 0) | (chance(40) ? kD : 0);
  }
  static uint32_t page(uint32_t i) {  // 16 pages under each directory slot
    return kBase + (i / kPagesPerTable) * 0x400000 + (i % kPagesPerTable) * 4096;
  }
  uint32_t table_of(uint32_t i) const {
    if (i < kPagesPerTable) return kShared;
    return v_.cr3 == kDirA ? kTableA : kTableB;
  }

  // A guest write of `value` to guest-physical `pa` (an entry), the way translated writers do
  // it (watched) or the way the monitor does (note_write).
  void write_entry(uint32_t pa, uint32_t value, bool watched) {
    if (watched) {
      shadow_.table_write_watched(pa, 4);
      set(pa, value);
      shadow_.table_write_end();
    } else {
      shadow_.note_write(pa, 4);
      set(pa, value);
    }
  }

  // Whether ring-3 code runs in the monitor's window now (translated), rather than in the
  // confined process's (directly: only with lazy parking, until a translated ring-3 run).
  bool ring3_here() const { return user_ && (!lazy_ || translated_); }

  // The promise, for every page of the region.
  void check(const std::string& after) {
    const auto maps = host_maps();
    check_process(maps, after);
    if (HasFatalFailure()) return;
    // While ring 3 runs directly, the monitor's window is ring 0's.
    const bool user = ring3_here();
    for (uint32_t i = 0; i < 2 * kPagesPerTable; ++i) {
      const uint32_t linear = page(i);
      const std::string perms = perms_at(maps, linear);
      if (perms[0] != 'r') continue;
      const shadowmmu::PhysRam ram{as_.physmap(), as_.ram_size()};
      auto t = shadowmmu::peek(ram, v_.cr0, v_.cr3, v_.cr4, linear, {false, user});
      ASSERT_TRUE(t) << "readable in the window, but the guest's tables do not allow it (or A "
                        "is clear): page "
                     << i << ", " << (user ? "ring 3" : "ring 0") << ", after " << after;
      ASSERT_EQ(std::memcmp(reinterpret_cast<const void*>(uintptr_t(linear)),
                            as_.phys(t->phys & ~0xfffu, 4096), 4096),
                0)
          << "the window shows another frame than the guest's tables give: page " << i << ", after "
          << after;
      if (perms[1] == 'w') {
        ASSERT_TRUE(shadowmmu::peek(ram, v_.cr0, v_.cr3, v_.cr4, linear, {true, user}))
            << "writable in the window, but not for the guest (or D is clear): page " << i << ", "
            << (user ? "ring 3" : "ring 0") << ", after " << after;
      }
      ASSERT_NE(perms[2], 'x') << "page " << i;
    }
  }

  // The changes since the last entry reach the current directory's process, except those a
  // model of it calls redundant (as DirectExec does); after a CR3 switch (one process per
  // directory) the queue is dropped and the process gets what differs from ring3_pages().
  void sync_process() {
    Process& p = per_space_ ? stubs_[v_.cr3] : stubs_[0];
    std::vector<shadowmmu::WindowChange> changes = stub_queue_.take();
    if (&p != cur_) {
      cur_ = &p;
      changes = p.model.diff(shadow_.ring3_pages());
    }
    for (const auto& c : changes) {
      if (p.model.redundant(c)) continue;
      p.model.apply(c);
      p.pages.apply(c);
    }
  }

  // The process's window, as it would be at an entry now: every page it holds, ring 3 may use
  // with that protection (whichever ring runs now: the guest's tables change under it), it is
  // what the shadow says it should hold, and the monitor's window holds it the same way (or
  // not at all, with one process per directory: taken up again after a CR3 switch).
  void check_process(const std::vector<Region>& maps, const std::string& after) {
    sync_process();
    const shadowmmu_test::PageModel& stub_ = cur_->pages;
    ASSERT_EQ(stub_.errors, 0) << "a protection of a page the process does not hold, after "
                               << after;
    std::map<uint64_t, shadowmmu_test::PageModel::Page> want;
    for (const auto& h : shadow_.ring3_pages()) want[h.addr] = {h.ram_offset, h.prot};
    ASSERT_EQ(stub_.pages, want) << "the process does not hold what the shadow says, after "
                                 << after;
    const shadowmmu::PhysRam ram{as_.physmap(), as_.ram_size()};
    for (const auto& [addr, pg] : stub_.pages) {
      const auto linear = uint32_t(addr);
      auto t = shadowmmu::peek(ram, v_.cr0, v_.cr3, v_.cr4, linear, {false, true});
      ASSERT_TRUE(t && (t->phys & ~0xfffu) == pg.ram_offset)
          << "the direct-execution process holds window page " << std::hex << linear << " (frame "
          << pg.ram_offset << ") that ring 3 may not read there, after " << after;
      if (pg.prot & PROT_WRITE) {
        ASSERT_TRUE(shadowmmu::peek(ram, v_.cr0, v_.cr3, v_.cr4, linear, {true, true}))
            << "the direct-execution process may write window page " << std::hex << linear
            << ", which ring 3 may not (or D is clear), after " << after;
      }
      const Region* r = region_at(maps, linear);
      if (per_space_ && r && !r->ram && r->perms == "---") {
        ++elsewhere_seen_;
        continue;
      }
      ASSERT_TRUE(r && r->ram && r->offset + (linear - r->lo) == pg.ram_offset &&
                  prot_of(r->perms) == pg.prot)
          << "the process's window page " << std::hex << linear
          << " differs from the monitor's, after " << after;
    }
    stub_pages_seen_ += stub_.pages.size();
  }

  // Ring-3 code accesses `linear`: in the monitor's window (translated), or in the process's.
  bool ring3_access_faults(uint32_t linear, bool write) {
    if (ring3_here()) {
      const std::string perms = perms_at(host_maps(), linear);
      return perms[0] != 'r' || (write && perms[1] != 'w');
    }
    sync_process();  // what the process holds at the entry
    const auto& pages = cur_->pages.pages;
    auto it = pages.find(linear);
    return it == pages.end() || (write && !(it->second.prot & PROT_WRITE));
  }

  shadowmmu::WindowQueue stub_queue_;
  shadowmmu::Ring3Window ring3_{stub_queue_};
  struct Process {
    shadowmmu_test::PageModel pages;  // a direct-execution process's window
    shadowmmu::WindowModel model;     // ... as the monitor knows it
  };
  std::map<uint32_t, Process> stubs_;  // by directory (one, at 0, unless per_space_)
  Process* cur_ = nullptr;
  uint64_t stub_pages_seen_ = 0, elsewhere_seen_ = 0;
  shadowmmu::AddressSpace as_;
  cpu::Vcpu v_;
  shadowmmu::Shadow shadow_;
  std::mt19937 rng_;
  const bool lazy_, per_space_;
  bool user_ = false;
  bool translated_ = false;  // lazy: ring-3 code ran translated since the entry to ring 3
};

TEST_P(ShadowCoherence, TheWindowNeverGivesMoreThanTheGuestsTablesDo) {
  uint64_t fills = 0, table_writes = 0, alias_writes = 0;
  for (int step = 0; step < 3000; ++step) {
    const uint32_t i = pick(2 * kPagesPerTable);
    const uint32_t r = pick(100);
    std::string what;
    if (r < 40) {
      const bool write = chance(30);
      what = std::string(user_ ? "ring-3 " : "ring-0 ") + (write ? "write" : "read");
      const std::string perms = perms_at(host_maps(), page(i));
      const bool faults = user_ ? ring3_access_faults(page(i), write)
                                : perms[0] != 'r' || (write && perms[1] != 'w');
      if (faults) {  // the host would fault
        // From ring-3 code running directly: in the process's window.
        auto f = shadow_.fill(page(i), write, user_, user_ && !ring3_here());
        ASSERT_NE(f.outcome, Outcome::NoRam);
        ++fills;
      }
    } else if (r < 65) {
      const bool watched = chance(70);
      what = watched ? "watched PTE write" : "monitor PTE write";
      write_entry(table_of(i) + (i % kPagesPerTable) * 4, random_pte(), watched);
      ++table_writes;
    } else if (r < 68) {
      // Through the window, as a faulting writer run alone does: where some page of the region
      // shows the shared table and the guest may write it.
      what = "PTE write through a window alias";
      if (user_) {  // the writer runs alone, translated: in the monitor's window
        shadow_.translated_user();
        translated_ = true;
      }
      const auto maps = host_maps();
      const shadowmmu::PhysRam ram{as_.physmap(), as_.ram_size()};
      for (uint32_t a = 0; a < 2 * kPagesPerTable; ++a) {
        auto t = shadowmmu::peek(ram, v_.cr0, v_.cr3, v_.cr4, page(a), {true, user_});
        if (perms_at(maps, page(a))[0] != 'r' || !t || (t->phys & ~0xfffu) != kShared) continue;
        shadow_.table_write_begin(page(a));
        reinterpret_cast<volatile uint32_t*>(uintptr_t(page(a)))[pick(kPagesPerTable)] =
            random_pte();
        shadow_.table_write_end();
        ++alias_writes;
        break;
      }
    } else if (r < 72) {
      what = "PDE write";
      const uint32_t tables[] = {kTableA, kTableB};
      uint32_t value = chance(20) ? 0 : tables[pick(2)] | kP | kRW | (chance(80) ? kUS : 0);
      if (chance(25))  // a 4 MiB page at physical 0 (its first pages are RAM)
        value = kP | kPS | (chance(70) ? kRW : 0) | (chance(80) ? kUS : 0) | (chance(50) ? kA : 0) |
                (chance(30) ? kD : 0);
      write_entry(v_.cr3 + kSlot1 * 4, value, chance(50));
    } else if (r < 80) {
      what = "invlpg";
      shadow_.invlpg(page(i));
    } else if (r < 88) {
      what = "CR3 switch";
      if (user_) continue;  // ring 0 only
      const uint32_t old = v_.cr3;
      v_.cr3 = old == kDirA ? kDirB : kDirA;
      shadow_.cr3_written(old);
    } else if (r < 94) {
      user_ = !user_;
      translated_ = false;
      what = user_ ? "entry to ring 3" : "entry to ring 0";
      if (user_)
        shadow_.entering_user();
      else
        shadow_.entering_kernel();
    } else if (r < 98) {
      what = "a translated ring-3 run";
      if (!user_) continue;
      shadow_.translated_user();
      translated_ = true;
    } else {
      what = "CR0.WP toggle";
      if (user_) continue;  // ring 0 only
      v_.cr0 ^= cpu::cr0::WP;
      shadow_.drop_all();
    }
    check("step " + std::to_string(step) + ": " + what);
    if (HasFatalFailure()) return;
  }
  // The walk must have been exercised, not just skipped.
  EXPECT_GT(fills, 300u);
  EXPECT_GT(table_writes, 300u);
  EXPECT_GT(alias_writes, 5u);
  EXPECT_GT(shadow_.stats().table_drops, 10u);
  EXPECT_GT(shadow_.stats().supervisor_parked, 10u);
  EXPECT_GT(stub_pages_seen_, 1000u);
  if (lazy_) {
    EXPECT_GT(shadow_.stats().parks_skipped, 10u);
  }
  if (per_space_) {
    EXPECT_GT(shadow_.stats().taken_up, 20u);
    EXPECT_GT(shadow_.stats().direct_only, 20u);
    EXPECT_GT(elsewhere_seen_, 100u);
  } else {
    EXPECT_EQ(shadow_.stats().taken_up, 0u);
    EXPECT_EQ(shadow_.stats().direct_only, 0u);
  }
  shadow_.drop_all();
}

INSTANTIATE_TEST_SUITE_P(Seeds, ShadowCoherence,
                         ::testing::Combine(::testing::Values(1u, 2u, 3u, 4u),
                                            ::testing::Values(Mode::Parking, Mode::Lazy,
                                                              Mode::ProcessPerSpace)));

}  // namespace
