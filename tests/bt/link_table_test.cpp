// The translation cache's FIFO ring and the per-unit chain lists (bt/src: code_cache.h,
// link_table.h), on units placed by hand: what eviction takes, in which order, and that
// exactly the chains into a dead unit are undone.
#include "link_table.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "code_cache.h"

namespace {

constexpr size_t kCache = 1 << 20, kRuntime = 4096, kUnitBytes = 4096;

// Places a unit of kUnitBytes at the cursor; its first 4 bytes are a chain site whose
// "exit stub" value is `stub`.
bt::Unit* place(bt::CodeCache& c, uint32_t eip, int32_t stub = 0) {
  bt::Unit u{};
  u.eip = eip;
  u.guest_bytes = 1;
  u.host = c.cursor();
  u.host_size = kUnitBytes;
  u.frame = eip >> 12;
  std::memcpy(u.host, &stub, 4);
  c.commit(kUnitBytes);
  return c.insert(eip, std::move(u));
}

int32_t rel32_at(const bt::Unit* u) {
  int32_t r;
  std::memcpy(&r, u->host, 4);
  return r;
}
const uint8_t* target_of(const bt::Unit* u) {
  return u->host + 4 + rel32_at(u);
}

TEST(CodeCacheRing, EvictsOldestFirstAndWrapsToTheStart) {
  bt::CodeCache c(kCache);
  c.set_runtime_end(kRuntime);
  std::vector<bt::Unit*> units;
  while (c.room() >= kUnitBytes) units.push_back(place(c, uint32_t(units.size()) << 12));
  ASSERT_EQ(units.size(), (kCache - kRuntime) / kUnitBytes);
  EXPECT_FALSE(c.unit_ahead()) << "the cursor is at the end: nothing lies ahead";
  c.wrap();
  EXPECT_EQ(c.cursor(), c.base() + kRuntime);
  EXPECT_TRUE(c.unit_ahead());
  EXPECT_EQ(c.room(), 0u) << "the oldest unit sits right at the start";
  for (int i = 0; i < 3; ++i) {
    auto gone = c.evict_oldest();
    EXPECT_EQ(gone->eip, uint32_t(i) << 12);
    EXPECT_EQ(c.find(gone->eip), nullptr);
    EXPECT_EQ(c.unit_at(gone->host), nullptr);
  }
  EXPECT_EQ(c.room(), 3 * kUnitBytes);
  EXPECT_EQ(c.units(), units.size() - 3);
  EXPECT_EQ(c.used(), (units.size() - 3) * kUnitBytes);
  // A new unit goes where the oldest was; the survivors are untouched.
  bt::Unit* n = place(c, 0x999000);
  EXPECT_EQ(n->host, c.base() + kRuntime);
  EXPECT_EQ(c.unit_at(n->host + 10), n);
  EXPECT_EQ(c.find(3 << 12), units[3]);
  std::vector<bt::Unit*> order;
  c.for_each_unit([&](bt::Unit* u) { order.push_back(u); });
  EXPECT_EQ(order.front(), units[3]) << "the FIFO order is allocation order";
  EXPECT_EQ(order.back(), n);
}

TEST(CodeCacheRing, ForgettingAFrameMarksItsUnitsDeadOnce) {
  bt::CodeCache c(kCache);
  c.set_runtime_end(kRuntime);
  bt::Unit* a = place(c, 0x1000);
  bt::Unit* b = place(c, 0x1800);
  bt::Unit* other = place(c, 0x2000);
  auto dead = c.forget_frame(1);
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_TRUE(a->dead && b->dead);
  EXPECT_FALSE(other->dead);
  EXPECT_EQ(c.find(0x1000), nullptr);
  EXPECT_EQ(c.find(0x2000), other);
  EXPECT_TRUE(c.forget_frame(1).empty()) << "a dead unit is not forgotten twice";
  EXPECT_EQ(c.units(), 3u) << "dead units keep their space until it is reclaimed";
}

TEST(LinkTable, UndoesExactlyTheChainsIntoADeadUnit) {
  bt::CodeCache c(kCache);
  c.set_runtime_end(kRuntime);
  bt::Unit* a = place(c, 0xa000, 111);
  bt::Unit* b = place(c, 0xb000, 222);
  bt::Unit* d = place(c, 0xd000, 333);
  bt::LinkTable links;
  links.chain(a->host, a, b, 0xb000, 0xb000, false);  // a -> b
  links.chain(d->host, d, b, 0xb000, 0xb000, false);  // d -> b
  links.chain(b->host, b, a, 0xa000, 0xa000, false);  // b -> a
  EXPECT_EQ(target_of(a), b->host);
  EXPECT_EQ(target_of(d), b->host);
  EXPECT_EQ(target_of(b), a->host);
  ASSERT_EQ(links.size(), 3u);

  // b dies: the chains out of it go with it, those into it return to their stubs.
  links.drop_out_of(*b);
  EXPECT_EQ(links.size(), 2u);
  EXPECT_EQ(a->links_in, bt::kNoLink);
  EXPECT_EQ(links.undo_into(*b), 2u);
  EXPECT_EQ(rel32_at(a), 111);
  EXPECT_EQ(rel32_at(d), 333);
  EXPECT_EQ(links.size(), 0u);
  EXPECT_EQ(b->links_in, bt::kNoLink);
  EXPECT_EQ(a->links_out, bt::kNoLink);

  // Slots are reused, and a survivor's chains stay while another unit dies.
  links.chain(a->host, a, d, 0xd000, 0xd000, false);
  links.chain(d->host, d, a, 0xa000, 0xa000, false);
  EXPECT_EQ(links.undo_into(*b), 0u);
  EXPECT_EQ(target_of(a), d->host);
  EXPECT_EQ(target_of(d), a->host);
  EXPECT_EQ(links.undo_if([](const bt::Link& l) { return l.page == 0xd000; }), 1u);
  EXPECT_EQ(rel32_at(a), 111);
  EXPECT_EQ(target_of(d), a->host);
  links.clear();
  EXPECT_EQ(links.size(), 0u);
  EXPECT_EQ(a->links_in, bt::kNoLink);
  EXPECT_EQ(d->links_out, bt::kNoLink);
}

TEST(LinkTable, ManyChainsIntoOneUnitAreAllFoundThroughItsList) {
  bt::CodeCache c(kCache);
  c.set_runtime_end(kRuntime);
  bt::Unit* hub = place(c, 0x100000);
  std::vector<bt::Unit*> preds;
  for (uint32_t i = 0; i < 100; ++i) {
    preds.push_back(place(c, i << 12, int32_t(i)));
  }
  bt::LinkTable links;
  for (bt::Unit* p : preds) links.chain(p->host, p, hub, 0, 0, false);
  // Every other predecessor dies first: its chain leaves hub's list from the middle.
  for (size_t i = 0; i < preds.size(); i += 2) links.drop_out_of(*preds[i]);
  EXPECT_EQ(links.size(), 50u);
  EXPECT_EQ(links.undo_into(*hub), 50u);
  for (size_t i = 1; i < preds.size(); i += 2) EXPECT_EQ(rel32_at(preds[i]), int32_t(i));
}

// undo_page and undo_nonglobal follow lists of their own: after any mix of chains, deaths and
// unlinks they undo exactly what a scan of every link would pick.
TEST(LinkTable, PageAndNonGlobalListsPickWhatAScanWould) {
  bt::CodeCache c(kCache);
  c.set_runtime_end(kRuntime);
  std::vector<bt::Unit*> units;
  for (uint32_t i = 0; i < 64; ++i) units.push_back(place(c, 0x400000 + (i << 12)));
  bt::LinkTable links;
  std::mt19937 rng(12345);
  auto pick = [&](uint32_t n) { return uint32_t(rng() % n); };
  auto count = [&](auto pred) {
    size_t n = 0;
    links.for_each([&](const bt::Link& l) { n += pred(l); });
    return n;
  };
  for (int step = 0; step < 4000; ++step) {
    bt::Unit* from = units[pick(64)];
    bt::Unit* to = units[pick(64)];
    const uint32_t page = pick(8) << 12, page2 = pick(3) ? page : pick(8) << 12;
    // A site per unit pair: each unit has room for 64 sites of 4 bytes.
    uint8_t* site = from->host + 4 * (to - units[0]);
    bool used = false;
    links.for_each([&](const bt::Link& l) { used |= l.site == site; });
    if (!used) links.chain(site, from, to, page, page2, pick(2));
    switch (pick(8)) {
      case 0: {
        const uint32_t p = pick(8) << 12;
        const size_t want = count([&](const bt::Link& l) { return l.page == p || l.page2 == p; });
        ASSERT_EQ(links.undo_page(p), want);
        ASSERT_EQ(count([&](const bt::Link& l) { return l.page == p || l.page2 == p; }), 0u);
        break;
      }
      case 1: {
        const size_t want = count([](const bt::Link& l) { return !l.global; });
        ASSERT_EQ(links.undo_nonglobal(), want);
        ASSERT_EQ(count([](const bt::Link& l) { return !l.global; }), 0u);
        break;
      }
      case 2:
        links.drop_out_of(*units[pick(64)]);
        break;
      case 3:
        links.undo_into(*units[pick(64)]);
        break;
      default:
        break;
    }
  }
  EXPECT_GT(links.size(), 0u);
  links.clear();
  EXPECT_EQ(links.undo_nonglobal(), 0u);
  EXPECT_EQ(links.undo_page(0), 0u);
}

}  // namespace
