// Chains and dead units in the running engine: a unit evicted (FIFO) or invalidated (its
// frame written) while the unit chained to it survives; the survivor must leave through its
// exit stub and the target be made again, and no other chain may be undone.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstring>
#include <memory>
#include <vector>

#include "bt/engine.h"
#include "cpu/cpu.h"
#include "engine_fixture.h"

namespace {

constexpr uint32_t kBase = 0x30000000, kSize = 0x80000;
constexpr uint32_t kStackTop = kBase + kSize - 16;

// A tiny assembler for the few forms these programs use.
struct Code {
  std::vector<uint8_t> b;
  uint32_t at() const { return kBase + uint32_t(b.size()); }
  void org(uint32_t off) { b.resize(off, 0x90); }
  void byte(uint8_t x) { b.push_back(x); }
  void rel32(uint32_t target) {
    const int32_t r = int32_t(target - (at() + 4));
    for (int i = 0; i < 4; ++i) b.push_back(uint8_t(r >> (8 * i)));
  }
  void jmp(uint32_t target) { byte(0xE9), rel32(target); }
  void jcc(uint8_t cc, uint32_t target) { byte(0x0F), byte(0x80 | cc), rel32(target); }
  // `n` units of "inc reg; jmp next" from here on.
  void fillers(uint8_t inc, size_t n) {
    for (size_t i = 0; i < n; ++i) byte(inc), byte(0xEB), byte(0);
  }
};
constexpr uint8_t kJe = 4, kJne = 5;

// Each 4K page of the area is its own guest frame.
class EvictionTest : public bt_test::MappedEngineTest<> {
 protected:
  EvictionTest() : MappedEngineTest(kBase, kSize, kStackTop, {kBase, kBase + kSize, true}) {}
  using MappedEngineTest::load;
  void load(const Code& c) { load(c.b); }
  // Host bytes of one "inc reg; jmp next" unit (what the layouts are measured in).
  size_t filler_unit_bytes() {
    Code c;
    c.fillers(0x43, 200);
    load(c);
    bt::Engine e(cpu_, src_);
    e.set_stop_eip(c.at());
    v_.eip = kBase;
    e.run();
    return e.stats().host_bytes / e.stats().units;
  }
};

TEST_F(EvictionTest, AChainedUnitEvictedWhileItsPredecessorSurvivesIsMadeAgain) {
  // start: edi = 3; T: esi++; on the second pass (edi == 2) run the G fillers, else the F
  // fillers; then P: edx++; edi--; jnz T. Made in that order, P chains to the older T. The
  // F fillers are far more code than G's, and the cache ends shortly after P: the G pass
  // wraps, evicts the oldest units (T first) in blocks, and leaves P. P's chain to T must be
  // undone, or P jumps into G's code.
  const size_t s = filler_unit_bytes();
  ASSERT_GT(s, 16u);
  const size_t nf = (400 << 10) / s, ng = (80 << 10) / s;
  const uint32_t T = kBase + 0x10, F = kBase + 0x1000;
  const uint32_t P = F + uint32_t(3 * nf), G = P + 0x100;
  Code c;
  c.byte(0xBF), c.byte(3), c.byte(0), c.byte(0), c.byte(0);  // mov edi, 3
  c.jmp(T);
  c.org(T - kBase);
  c.byte(0x46);                           // inc esi
  c.byte(0x83), c.byte(0xFF), c.byte(2);  // cmp edi, 2
  c.jcc(kJe, G);
  c.jmp(F);
  c.org(F - kBase);
  c.fillers(0x43, nf);  // inc ebx
  ASSERT_EQ(c.at(), P);
  c.byte(0x42), c.byte(0x4F);  // inc edx; dec edi
  c.jcc(kJne, T);
  const uint32_t end = c.at();
  c.org(G - kBase);
  c.fillers(0x45, ng);  // inc ebp
  c.jmp(P);
  load(c);

  // The smallest cache (in 4K steps) that holds the first pass without evicting: then the
  // G pass cannot fit after P, while F's units are far more than two eviction blocks.
  bt::Options opt;
  opt.evict = bt::Options::Evict::Fifo;
  std::unique_ptr<bt::Engine> e;
  for (opt.cache_bytes = (nf + 8) * s + bt::kUnitReserve;; opt.cache_bytes += 4096) {
    ASSERT_LT(opt.cache_bytes, (nf + 8) * s + 4 * bt::kUnitReserve);
    reg(cpu::EBX) = reg(cpu::EBP) = reg(cpu::ESI) = reg(cpu::EDX) = 0;
    v_.eip = kBase;
    e.reset();
    e = std::make_unique<bt::Engine>(cpu_, src_, opt);
    e->set_stop_eip(G);  // after the first pass, with P chained to T
    ASSERT_EQ(e->run().kind, bt::RunExit::Kind::Stop);
    if (e->stats().evictions == 0) break;
  }
  ASSERT_EQ(reg(cpu::EDI), 2u);
  ASSERT_GE(e->stats().chains, nf);
  e->set_stop_eip(end);
  ASSERT_EQ(e->run().kind, bt::RunExit::Kind::Stop);
  EXPECT_EQ(reg(cpu::EDI), 0u);
  EXPECT_EQ(reg(cpu::ESI), 3u);
  EXPECT_EQ(reg(cpu::EDX), 3u);
  EXPECT_EQ(reg(cpu::EBX), 2 * nf);
  EXPECT_EQ(reg(cpu::EBP), ng);
  const bt::Stats& st = e->stats();
  EXPECT_EQ(st.flushes, 0u);
  EXPECT_GE(st.evictions, 1u);
  // Chains from evicted units go with them; an undone chain had a surviving source (P).
  EXPECT_GE(st.chains_undone, 1u);
}

TEST_F(EvictionTest, AWrittenFrameUndoesOnlyTheChainsIntoItsUnits) {
  // Page 0: A: eax++; jmp B. Page 1: B: ecx--; jnz A. Page 2: C: ebx++; dec edx; jnz C.
  const uint32_t A = kBase, B = kBase + 0x1000, C = kBase + 0x2000;
  Code c;
  c.byte(0x40), c.jmp(B);
  c.org(B - kBase);
  c.byte(0x49), c.jcc(kJne, A);
  c.jmp(C);
  c.org(C - kBase);
  c.byte(0x43), c.byte(0x4A), c.jcc(kJne, C);
  const uint32_t end = c.at();
  load(c);
  bt::Engine e(cpu_, src_);
  e.set_stop_eip(end);
  auto run = [&] {
    reg(cpu::ECX) = 5, reg(cpu::EDX) = 5, reg(cpu::EAX) = reg(cpu::EBX) = 0;
    v_.eip = A;
    ASSERT_EQ(e.run().kind, bt::RunExit::Kind::Stop);
    EXPECT_EQ(reg(cpu::EAX), 5u);
    EXPECT_EQ(reg(cpu::EBX), 5u);
  };
  run();
  const uint64_t chains = e.stats().chains;
  EXPECT_GE(chains, 3u);  // A->B, B->A, C->C at least
  EXPECT_EQ(e.stats().chains_undone, 0u);

  // B's frame is written: A->B goes; B's chains (to A, to its loop exit, and the loop exit's
  // to C) go with B and its loop exit; C->C stays.
  EXPECT_EQ(e.invalidate_frame(1), 2u);
  EXPECT_EQ(e.stats().chains_undone, 1u);
  const uint64_t units = e.stats().units;
  run();
  EXPECT_GT(e.stats().units, units) << "B is made again";
  EXPECT_EQ(e.stats().chains_undone, 1u);
  // C's loop stayed chained: only those four were chained again.
  EXPECT_EQ(e.stats().chains - chains, 4u);
}

TEST_F(EvictionTest, GenerationalKeepsAHotUnitThatFifoLoses) {
  // H: dec ecx; jnz H (entered 40 times, chained to itself), then fillers that overflow the
  // nursery twice. Under generational eviction H is made again in the persistent ring when
  // the nursery evicts it; under FIFO it is gone. Then H runs once more, stopping after it.
  const size_t s = filler_unit_bytes();
  const uint32_t H = kBase, F = kBase + 7;
  constexpr size_t kCacheBytes = 512 << 10;
  const size_t nf = 2 * kCacheBytes / s;
  Code c;
  c.byte(0x49), c.jcc(kJne, H);  // dec ecx; jnz H
  ASSERT_EQ(c.at(), F);
  c.fillers(0x43, nf);
  const uint32_t end = c.at();
  load(c);
  for (auto policy : {bt::Options::Evict::Generational, bt::Options::Evict::Fifo}) {
    SCOPED_TRACE(policy == bt::Options::Evict::Fifo ? "fifo" : "generational");
    bt::Options opt;
    opt.evict = policy;
    opt.cache_bytes = kCacheBytes;
    bt::Engine e(cpu_, src_, opt);
    e.set_stop_eip(end);
    reg(cpu::ECX) = 40, reg(cpu::EBX) = 0;
    v_.eip = H;
    ASSERT_EQ(e.run().kind, bt::RunExit::Kind::Stop);
    EXPECT_EQ(reg(cpu::EBX), nf);
    EXPECT_GE(e.stats().evictions, nf / 2);
    const uint64_t units = e.stats().units;
    e.set_stop_eip(F);
    reg(cpu::ECX) = 3;
    v_.eip = H;
    ASSERT_EQ(e.run().kind, bt::RunExit::Kind::Stop);
    EXPECT_EQ(reg(cpu::ECX), 0u);
    if (policy == bt::Options::Evict::Generational) {
      EXPECT_GE(e.stats().promotions, 1u);
      EXPECT_LE(e.stats().promotions, 3u) << "only H (and its loop exit) were hot";
      EXPECT_EQ(e.stats().units, units) << "H was found in the persistent ring";
    } else {
      EXPECT_EQ(e.stats().promotions, 0u);
      EXPECT_EQ(e.stats().units, units + 1) << "H was evicted and made again";
    }
  }
}

TEST_F(EvictionTest, GenerationalNeedsRoomForAUnitInEachGeneration) {
  bt::Options opt;
  opt.evict = bt::Options::Evict::Generational;
  opt.cache_bytes = bt::kUnitReserve + (bt::kUnitReserve / 2);
  EXPECT_THROW(bt::Engine(cpu_, src_, opt), bt::CacheTooSmall);
  opt.evict = bt::Options::Evict::Fifo;
  EXPECT_NO_THROW(bt::Engine(cpu_, src_, opt));
}

}  // namespace
