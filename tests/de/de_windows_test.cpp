// The windows of the direct-execution processes, one per recent guest address space
// (hostexec/src/de_windows.h), checked from the outside: after every entry the process chosen
// must hold, in /proc/<pid>/maps, exactly the pages its address space should hold — whatever
// changes went to the monitor's window before, whatever the queue held at a CR3 write (it is
// dropped then: partly the space left), and after more spaces than processes (one is taken
// over). Random activity against a page model per space; real stub processes, no guest code.
#include "de_windows.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <random>
#include <string>

#include "../shadowmmu/page_model.h"
#include "proc_maps.h"

namespace {

using hostexec::de::DeStub;
using hostexec::de::DeStubs;
using hostexec::de::DeWindows;
using shadowmmu::WindowChange;
using Kind = WindowChange::Kind;
using shadowmmu_test::PageModel;

constexpr uint64_t kPage = 4096, kBase = 0x40000000, kPages = 24, kRamPages = 32;

// What the process holds in the guest window: RAM pages, each with its offset and rights.
std::map<uint64_t, PageModel::Page> window_of(pid_t pid) {
  std::map<uint64_t, PageModel::Page> out;
  for (const auto& m : de_test::maps_of(pid)) {
    if (m.start >= (4ull << 30) || m.path.find("bt86-ram") == std::string::npos) continue;
    const int prot = (m.perms[0] == 'r' ? PROT_READ : 0) | (m.perms[1] == 'w' ? PROT_WRITE : 0) |
                     (m.perms[2] == 'x' ? PROT_EXEC : 0);
    for (uint64_t a = m.start; a < m.end; a += kPage) out[a] = {m.offset + (a - m.start), prot};
  }
  return out;
}

TEST(DeWindows, EachProcessHoldsWhatItsSpaceShouldAfterEveryEntry) {
  const int ram = memfd_create("bt86-ram", MFD_CLOEXEC);
  ASSERT_GE(ram, 0);
  ASSERT_EQ(ftruncate(ram, kRamPages * kPage), 0);
  uint16_t pending = 0;
  DeWindows w(ram, false, &pending);
  std::mt19937 rng(11);
  auto pick = [&](uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng); };
  const int prots[] = {PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_EXEC};
  constexpr uint32_t kSpaces = DeStubs::kMax + 3;  // more than there are processes
  std::map<uint32_t, PageModel> should;            // by space: what its process should hold
  uint32_t space = 0x1000;
  auto change = [&](bool real) {
    const uint64_t at = kBase + pick(kPages) * kPage;
    WindowChange c{Kind::Unmap, 0, at, kPage};
    const int r = pick(10);
    if (r < 6) {
      c = {Kind::Map, prots[pick(3)],          at,
           kPage,     pick(kRamPages) * kPage, shadowmmu::Ring3::Allowed};
    } else if (r < 8 && should[space].pages.count(at)) {
      c = {Kind::Protect, prots[pick(3)], at, kPage, 0, shadowmmu::Ring3::Allowed};
    }
    if (real) should[space].apply(c);
    w.sink().window_changed(c);
  };
  auto want = [&] {
    std::vector<shadowmmu::HeldPage> out;
    for (const auto& [addr, p] : should[space].pages)
      out.push_back({uint32_t(addr), uint32_t(p.ram_offset), p.prot});
    return out;
  };
  uint64_t entries = 0, switches = 0;
  for (int step = 0; step < 600; ++step) {
    bool cr3_written = false;
    if (pick(4) == 0) {
      // A CR3 write: the shadow reports the space left's pages going and others coming
      // (dropped with the queue), and the new space's process must get what it should hold.
      for (int i = pick(4); i > 0; --i) change(false);
      space = 0x1000 * (1 + pick(kSpaces));
      cr3_written = true;
      ++switches;
    } else {
      for (int i = pick(5); i > 0; --i) change(true);
    }
    const DeStub& s = w.prepare(space, cr3_written, want, [] { FAIL() << "window dropped"; });
    ASSERT_EQ(s.space, space);
    ASSERT_EQ(window_of(s.process.pid()), should[space].pages)
        << "step " << step << ", space " << std::hex << space;
    ++entries;
  }
  EXPECT_GT(switches, 100u);
  EXPECT_EQ(w.stubs().started(), DeStubs::kMax);
  EXPECT_GT(w.stubs().taken_over(), 20u);
  // Going back to a space whose process kept its window sends little: far fewer changes than
  // were made.
  EXPECT_LT(w.stats().sent, w.stats().changes + w.stats().diffs);
  EXPECT_GT(w.stats().diffs, 0u);
  close(ram);
}

// More single pages than the host lets one process map (vm.max_map_count; none can merge):
// the process's window is dropped whole with the monitor's, and it goes on from nothing.
TEST(DeWindows, AWindowAtTheHostsMappingLimitIsDroppedWhole) {
  std::ifstream limit_file("/proc/sys/vm/max_map_count");
  uint64_t limit = 0;
  limit_file >> limit;
  ASSERT_GT(limit, 0u);
  ASSERT_LT(limit, 1u << 18) << "vm.max_map_count too high to reach in a test";
  const int ram = memfd_create("bt86-ram", MFD_CLOEXEC);
  ASSERT_GE(ram, 0);
  ASSERT_EQ(ftruncate(ram, 2 * kPage), 0);
  uint16_t pending = 0;
  DeWindows w(ram, false, &pending);
  for (uint64_t i = 0; i < limit + 16; ++i)  // every other window page: no two adjacent
    w.sink().window_changed({Kind::Map, PROT_READ, 2 * i * kPage + kPage, kPage, (i % 2) * kPage,
                             shadowmmu::Ring3::Allowed});
  int drops = 0;
  auto drop = [&] {
    ++drops;  // what the shadow's reset reports
    w.sink().window_changed({Kind::Unmap, 0, kPage, (4ull << 30) - kPage});
  };
  auto none = [] { return std::vector<shadowmmu::HeldPage>{}; };
  const DeStub& s = w.prepare(DeStubs::kNoPaging, false, none, drop);
  EXPECT_EQ(drops, 1);
  EXPECT_EQ(w.stats().full, 1u);
  EXPECT_TRUE(window_of(s.process.pid()).empty());
  w.sink().window_changed({Kind::Map, PROT_READ, 0x10000, kPage, kPage, shadowmmu::Ring3::Allowed});
  EXPECT_EQ(&w.prepare(DeStubs::kNoPaging, false, none, drop), &s);
  EXPECT_EQ(window_of(s.process.pid()),
            (std::map<uint64_t, PageModel::Page>{{0x10000, PageModel::Page{kPage, PROT_READ}}}));
  EXPECT_EQ(drops, 1);
  close(ram);
}

}  // namespace
