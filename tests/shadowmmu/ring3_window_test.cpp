// What of the monitor's window reaches the confined direct-execution process: only pages guest
// ring 3 may use as mapped (shadowmmu::Ring3Window). Supervisor maps become unmaps, their
// parking and give-back never leave the monitor, and with lazy parking the monitor parks only
// before a translated ring-3 run. (shadow_coherence_test.cpp checks the process's window
// against the guest's tables after every step of random guest activity.)
#include "shadowmmu/ring3_window.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstring>
#include <vector>

#include "page_model.h"
#include "shadowmmu/shadow.h"
#include "shadowmmu/window_queue.h"

namespace {

using shadowmmu::Ring3;
using shadowmmu::Ring3View;
using shadowmmu::WindowChange;
using Kind = WindowChange::Kind;
constexpr uint64_t kPage = 4096;

struct Recorder final : shadowmmu::WindowSink {
  std::vector<WindowChange> seen;
  void window_changed(const WindowChange& c) override { seen.push_back(c); }
};

TEST(Ring3Window, KeepsWhatRing3MayUseAndNothingElse) {
  const WindowChange user_map{Kind::Map, PROT_READ, 5 * kPage, kPage, 9 * kPage, Ring3::Allowed};
  const WindowChange super_map{Kind::Map,  PROT_READ | PROT_WRITE, 6 * kPage, kPage,
                               10 * kPage, Ring3::Denied};
  const WindowChange user_prot{Kind::Protect, PROT_READ | PROT_WRITE, 5 * kPage, kPage, 0,
                               Ring3::Allowed};
  const WindowChange park{Kind::Protect, PROT_NONE, 6 * kPage, 2 * kPage, 0, Ring3::Denied};
  const WindowChange unmap{Kind::Unmap, 0, 5 * kPage, kPage};
  EXPECT_EQ(shadowmmu::ring3_view(user_map), Ring3View::Keep);
  EXPECT_EQ(shadowmmu::ring3_view(super_map), Ring3View::Unmap);
  EXPECT_EQ(shadowmmu::ring3_view(user_prot), Ring3View::Keep);
  EXPECT_EQ(shadowmmu::ring3_view(park), Ring3View::Drop);
  EXPECT_EQ(shadowmmu::ring3_view(unmap), Ring3View::Keep);
  // A change nobody classified is withheld.
  EXPECT_EQ(shadowmmu::ring3_view({Kind::Map, PROT_READ, 0, kPage, 0}), Ring3View::Unmap);

  Recorder r;
  shadowmmu::Ring3Window w(r);
  for (const auto& c : {user_map, super_map, user_prot, park, unmap}) w.window_changed(c);
  ASSERT_EQ(r.seen.size(), 4u);
  EXPECT_EQ(r.seen[0], user_map);
  EXPECT_EQ(r.seen[1], (WindowChange{Kind::Unmap, 0, 6 * kPage, kPage}));
  EXPECT_EQ(r.seen[2], user_prot);
  EXPECT_EQ(r.seen[3], unmap);
  EXPECT_EQ(w.maps_withheld(), 1u);
  EXPECT_EQ(w.protects_dropped(), 1u);
}

// The shadow on a real window: 12 user pages and 12 supervisor pages filled, then ring 3
// entered and left. The process's copy holds exactly the user pages; the monitor parks and
// (when ring 0 touches them) unparks the supervisor pages without a single change reaching the
// process.
class Ring3WindowShadow : public ::testing::Test {
 protected:
  static constexpr uint32_t kP = 1, kRW = 2, kUS = 4, kA = 0x20, kD = 0x40;
  static constexpr uint32_t kDir = 0x1000, kTable = 0x2000, kLinear = 0x40000000;
  Ring3WindowShadow() : as_(1u << 20), shadow_(as_, v_) {
    as_.set_window_sink(&ring3_);
    as_.map_identity();
    v_.cr0 = cpu::cr0::PE | cpu::cr0::PG | cpu::cr0::WP;
    v_.cr3 = kDir;
    shadow_.reset();
    set(kDir + (kLinear >> 22) * 4, kTable | kP | kRW | kUS | kA);
    for (uint32_t i = 0; i < 24; ++i)  // user pages, then supervisor pages; all dirty
      set(kTable + i * 4, (0x10000 + i * kPage) | kP | kRW | kA | kD | (i < 12 ? kUS : 0));
  }
  void set(uint32_t pa, uint32_t v) { std::memcpy(as_.phys(pa, 4), &v, 4); }
  void fill_all() {
    for (uint32_t i = 0; i < 24; ++i)
      ASSERT_EQ(shadow_.fill(kLinear + i * kPage, false, false).outcome,
                shadowmmu::Shadow::Outcome::Mapped);
  }
  // The process's window now: exactly the user pages, read-write.
  void expect_user_pages_only(const char* when) {
    stub_.apply(queue_.take());
    EXPECT_EQ(stub_.errors, 0) << when;
    std::map<uint64_t, shadowmmu_test::PageModel::Page> want;
    for (uint32_t i = 0; i < 12; ++i)
      want[kLinear + i * kPage] = {0x10000 + i * kPage, PROT_READ | PROT_WRITE};
    EXPECT_EQ(stub_.pages, want) << when;
  }
  shadowmmu::WindowQueue queue_;
  shadowmmu::Ring3Window ring3_{queue_};
  shadowmmu_test::PageModel stub_;
  shadowmmu::AddressSpace as_;
  cpu::Vcpu v_;
  shadowmmu::Shadow shadow_;
};

TEST_F(Ring3WindowShadow, SupervisorPagesNeverReachTheProcess) {
  fill_all();
  expect_user_pages_only("fills");
  shadow_.entering_user();
  EXPECT_EQ(shadow_.stats().supervisor_parked, 12u);
  EXPECT_TRUE(queue_.empty()) << "parking reached the process";
  shadow_.entering_kernel();
  // Ring 0 touches a parked page: its run comes back, in the monitor's window only.
  ASSERT_EQ(shadow_.fill(kLinear + 12 * kPage, false, false).outcome,
            shadowmmu::Shadow::Outcome::Mapped);
  EXPECT_EQ(shadow_.stats().supervisor_unparked, 12u);
  EXPECT_TRUE(queue_.empty()) << "the give-back reached the process";
  expect_user_pages_only("a kernel round trip");
  EXPECT_EQ(ring3_.maps_withheld(), 12u);
  EXPECT_EQ(ring3_.protects_dropped(), 2u);  // one run parked, one given back
}

// With lazy parking an entry to ring 3 parks nothing until ring-3 code runs translated.
TEST_F(Ring3WindowShadow, LazyParkingWaitsForATranslatedRing3Run) {
  shadow_.set_lazy_parking(true);
  fill_all();
  shadow_.entering_user();
  EXPECT_TRUE(shadow_.park_owed());
  shadow_.entering_kernel();  // ring 3 ran directly only
  EXPECT_EQ(shadow_.stats().supervisor_parked, 0u);
  EXPECT_EQ(shadow_.stats().parks_skipped, 1u);
  EXPECT_FALSE(shadow_.park_owed());
  shadow_.entering_user();
  shadow_.translated_user();
  EXPECT_EQ(shadow_.stats().supervisor_parked, 12u);
  EXPECT_FALSE(shadow_.park_owed());
  shadow_.translated_user();  // paid once
  EXPECT_EQ(shadow_.stats().user_entries, 1u);
  shadow_.entering_kernel();
  expect_user_pages_only("lazy round trips");
}

// Many kernel round trips that drop and fill supervisor pages while ring 3 only ever runs
// directly (the list of pages to park is compacted on the way): the first translated ring-3 run
// parks each live supervisor mapping once.
TEST_F(Ring3WindowShadow, LazyParkingParksTheLiveMappingsOnce) {
  shadow_.set_lazy_parking(true);
  for (int round = 0; round < 2000; ++round) {
    shadow_.invlpg(kLinear + (12 + round % 12) * kPage);
    ASSERT_EQ(shadow_.fill(kLinear + (12 + round % 12) * kPage, false, false).outcome,
              shadowmmu::Shadow::Outcome::Mapped);
    shadow_.entering_user();
    shadow_.entering_kernel();
  }
  shadow_.entering_user();
  shadow_.translated_user();
  EXPECT_EQ(shadow_.stats().supervisor_parked, 12u);
}

}  // namespace

// Parking calls mprotect once over consecutive runs of supervisor pages while what lies
// between them shows nothing (a hole, here); a user page between two runs keeps them apart, and
// stays usable. Pages, from kLinear: S S - S U S (S supervisor, U user, - not present).
class ParkingSpans : public ::testing::Test, public shadowmmu::WindowSink {
 protected:
  static constexpr uint32_t kP = 1, kRW = 2, kUS = 4, kA = 0x20, kD = 0x40;
  static constexpr uint32_t kDir = 0x1000, kTable = 0x2000, kLinear = 0x40000000;
  ParkingSpans() : as_(1u << 20), shadow_(as_, v_) {
    as_.set_window_sink(this);
    as_.map_identity();
    v_.cr0 = cpu::cr0::PE | cpu::cr0::PG | cpu::cr0::WP;
    v_.cr3 = kDir;
    shadow_.reset();
    set(kDir + (kLinear >> 22) * 4, kTable | kP | kRW | kUS | kA);
    const uint32_t user[] = {0, 0, 0, 0, kUS, 0};
    for (uint32_t i = 0; i < 6; ++i)
      if (i != 2) set(kTable + i * 4, (0x10000 + i * kPage) | kP | kRW | kA | kD | user[i]);
  }
  void window_changed(const WindowChange& c) override {
    if (c.kind == Kind::Protect) protects_.push_back(c);
  }
  void set(uint32_t pa, uint32_t v) { std::memcpy(as_.phys(pa, 4), &v, 4); }
  static uint64_t page(uint32_t i) { return kLinear + i * kPage; }

  std::vector<WindowChange> protects_;
  shadowmmu::AddressSpace as_;
  cpu::Vcpu v_;
  shadowmmu::Shadow shadow_;
};

TEST_F(ParkingSpans, OneCallCoversRunsWithNothingShownBetween) {
  for (uint32_t i : {0u, 1u, 3u, 4u, 5u})
    ASSERT_EQ(shadow_.fill(page(i), false, false).outcome, shadowmmu::Shadow::Outcome::Mapped);
  shadow_.entering_user();
  EXPECT_EQ(shadow_.stats().supervisor_parked, 4u);
  EXPECT_EQ(shadow_.stats().park_calls, 2u);
  const std::vector<WindowChange> want = {
      {Kind::Protect, PROT_NONE, page(0), 4 * kPage, 0, Ring3::Denied},  // S S - S
      {Kind::Protect, PROT_NONE, page(5), kPage, 0, Ring3::Denied},      // S, after the U
  };
  EXPECT_EQ(protects_, want);
  // The user page between them was left as it was: ring 3 reads and writes it.
  auto* user = reinterpret_cast<volatile uint32_t*>(page(4));
  *user = 0x5a5a5a5a;
  EXPECT_EQ(*user, 0x5a5a5a5au);
  // Ring 0 touches a parked page: its own run comes back (the hole between stays a hole).
  shadow_.entering_kernel();
  protects_.clear();
  ASSERT_EQ(shadow_.fill(page(3), false, false).outcome, shadowmmu::Shadow::Outcome::Mapped);
  ASSERT_EQ(protects_.size(), 1u);
  EXPECT_EQ(protects_[0].addr, page(3));
  EXPECT_EQ(protects_[0].len, kPage);
  EXPECT_NE(protects_[0].prot, PROT_NONE);
  EXPECT_EQ(shadow_.stats().supervisor_unparked, 1u);
  EXPECT_EQ(shadow_.stats().unpark_calls, 1u);
}
