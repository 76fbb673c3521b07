// What making room and invalidating cost in the translation cache: a cycle of units larger
// than the cache under FIFO eviction (every unit is made again on every pass, evicting the
// oldest), and one written code frame among many chained units (SMC) followed by a pass over
// all of them. Compare implementations by building this file against each (see
// docs/PERFORMANCE.md).
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "bench_arena.h"

namespace {

constexpr uint32_t kBase = 0x30000000;

// Each 4K page of the arena is its own frame, so that one frame can be invalidated.
struct PagedMachine : bench::Machine {
  using bench::Machine::Machine;
  uint32_t phys_page(uint32_t linear) override { return linear >> 12; }
};

// `n` units of "inc ebx; jmp next", then "dec ecx; jnz start": ECX passes over n units.
std::vector<uint8_t> cycle(size_t n) {
  std::vector<uint8_t> c;
  for (size_t i = 0; i < n; ++i) c.insert(c.end(), {0x43, 0xEB, 0x00});
  const int32_t back = -int32_t(c.size() + 1 + 6);
  c.insert(c.end(), {0x49, 0x0F, 0x85});
  for (int i = 0; i < 4; ++i) c.push_back(uint8_t(back >> (8 * i)));
  return c;
}

struct Rig {
  Rig(size_t units, const bt::Options& opt)
      : code(cycle(units)),
        arena(kBase, (uint32_t(code.size()) + 0x10000) & ~0xfffu),
        m(arena),
        engine(m.cpu, m, opt) {
    std::memcpy(arena.at(kBase), code.data(), code.size());
    engine.set_stop_eip(kBase + uint32_t(code.size()));
  }
  bool pass(uint32_t passes = 1) {
    m.cpu.reset_multiboot(kBase, 0, 0);
    m.v.gpr[cpu::ESP] = arena.base + arena.size - 16;
    m.v.gpr[cpu::ECX] = passes;
    return engine.run().kind == bt::RunExit::Kind::Stop;
  }
  std::vector<uint8_t> code;
  bench::Arena arena;
  PagedMachine m;
  bt::Engine engine;
};

// A pass over a cycle 1.5 times the cache (FIFO): every unit is made again and every block
// of them evicts the oldest. Per unit made: translation plus the eviction's share.
void BM_FifoCycle(benchmark::State& s) {
  bt::Options opt;
  opt.evict = bt::Options::Evict::Fifo;
  opt.cache_bytes = size_t(s.range(0)) << 20;
  const size_t units = opt.cache_bytes * 3 / 2 / 80;  // a filler unit is ~80 host bytes
  Rig r(units, opt);
  r.pass();  // warm: the cache is full and wrapping from here on
  const bt::Stats before = r.engine.stats();
  for (auto _ : s)
    if (!r.pass()) s.SkipWithError("the cycle did not finish");
  const bt::Stats& st = r.engine.stats();
  const double made = double(st.units - before.units);
  s.counters["units_made"] = made;
  s.counters["ns_per_unit_made"] =
      benchmark::Counter(made, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  s.counters["evictions_per_pass"] =
      double(st.evictions - before.evictions) / double(s.iterations());
  s.counters["blocks_per_pass"] =
      double(st.eviction_blocks - before.eviction_blocks) / double(s.iterations());
  s.counters["live_units"] = double(st.units - st.invalidated);
}
BENCHMARK(BM_FifoCycle)->Arg(1)->Arg(4)->Arg(16)->Unit(benchmark::kMillisecond);

// `units` chained units stay in the cache; per iteration one code frame (~1300 units' page)
// is written (invalidate_frame) and then ten passes run over all of them. Exact invalidation
// undoes only the chains into that frame's units; undoing every chain makes every unit leave
// to the dispatcher once more to be chained again.
void BM_InvalidateOneFrame(benchmark::State& s) {
  const size_t units = size_t(s.range(0));
  Rig r(units, {});
  r.pass(2);
  uint32_t frame = kBase >> 12;
  for (auto _ : s) {
    if (r.engine.invalidate_frame(frame) == 0) s.SkipWithError("nothing invalidated");
    if (!r.pass(10)) s.SkipWithError("the cycle did not finish");
    frame = frame + 1 < ((kBase + units * 3) >> 12) ? frame + 1 : kBase >> 12;
  }
  s.counters["chains_undone_per_write"] =
      double(r.engine.stats().chains_undone) / double(s.iterations());
}
BENCHMARK(BM_InvalidateOneFrame)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace
