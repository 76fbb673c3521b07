// What control transfers cost once code is translated: a chained direct branch, a return
// through the jump cache, a callout, and a full dispatcher round trip (chaining off).
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "bench_arena.h"

namespace {

constexpr uint32_t kBase = 0x30000000;

// Runs `code` (which must loop ECX times and then fall off its end) with ECX = iterations.
void run_loop(benchmark::State& state, const std::vector<uint8_t>& code, bt::Options opt = {}) {
  bench::Arena arena(kBase, 0x10000);
  bench::Machine m(arena);
  std::memcpy(arena.at(kBase), code.data(), code.size());
  bt::Engine engine(m.cpu, m, opt);
  engine.set_stop_eip(kBase + uint32_t(code.size()));
  const uint32_t n = 100000;
  for (auto _ : state) {
    m.cpu.reset_multiboot(kBase, 0, 0);
    m.v.gpr[cpu::ESP] = kBase + 0xff00;
    m.v.gpr[cpu::ECX] = n;
    auto x = engine.run();
    if (x.kind != bt::RunExit::Kind::Stop) state.SkipWithError("the loop did not finish");
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * n);
  state.counters["ns_per_iteration"] = benchmark::Counter(
      double(state.iterations()) * n, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// L: dec ecx; jnz L  (a chained back edge through the unit entry check)
void BM_ChainedLoop(benchmark::State& s) {
  run_loop(s, {0x49, 0x75, 0xFD});
}
BENCHMARK(BM_ChainedLoop);

// L: call F; dec ecx; jnz L; jmp end; F: ret   (ret = jump-cache probe, hit)
void BM_CallRetJumpCache(benchmark::State& s) {
  run_loop(s, {0xE8, 5, 0, 0, 0, 0x49, 0x75, 0xF8, 0xEB, 1, 0xC3});
}
BENCHMARK(BM_CallRetJumpCache);

// The same with --tc ib=inline: the ret's own inline cache holds its one target (hit)
void BM_CallRetInlineCache(benchmark::State& s) {
  bt::Options opt;
  opt.indirect = bt::Options::IndirectBranch::Inline;
  run_loop(s, {0xE8, 5, 0, 0, 0, 0x49, 0x75, 0xF8, 0xEB, 1, 0xC3}, opt);
}
BENCHMARK(BM_CallRetInlineCache);

// L: push ecx; xor eax,eax; cpuid; pop ecx; dec ecx; jnz L   (a callout into cpu/ per iteration)
void BM_CalloutCpuid(benchmark::State& s) {
  run_loop(s, {0x51, 0x31, 0xC0, 0x0F, 0xA2, 0x59, 0x49, 0x75, 0xF7});
}
BENCHMARK(BM_CalloutCpuid);

// L: mov eax, fs:[0x100]; dec ecx; jnz L   (FS base non-zero: each unit entry must know
// whether the host GS base holds it; without FSGSBASE, setting it is a system call)
void BM_FsLoadLoop(benchmark::State& s) {
  bench::Arena arena(kBase, 0x10000);
  bench::Machine m(arena);
  const std::vector<uint8_t> code = {0x64, 0xA1, 0x00, 0x01, 0, 0, 0x49, 0x75, 0xF7};
  std::memcpy(arena.at(kBase), code.data(), code.size());
  bt::Engine engine(m.cpu, m);
  engine.set_stop_eip(kBase + uint32_t(code.size()));
  const uint32_t n = 100000;
  for (auto _ : s) {
    m.cpu.reset_multiboot(kBase, 0, 0);
    cpu::Segment fs = m.v.seg[cpu::FS];
    fs.base = kBase + 0x8000;
    m.v.load_segment_cache(cpu::FS, fs);
    m.v.gpr[cpu::ESP] = kBase + 0xff00;
    m.v.gpr[cpu::ECX] = n;
    if (engine.run().kind != bt::RunExit::Kind::Stop) s.SkipWithError("the loop did not finish");
  }
  s.counters["ns_per_iteration"] = benchmark::Counter(
      double(s.iterations()) * n, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_FsLoadLoop);

// The chained loop with chaining off: every iteration leaves to the dispatcher and back.
void BM_DispatcherRoundTrip(benchmark::State& s) {
  bt::Options opt;
  opt.chaining = false;
  run_loop(s, {0x49, 0x75, 0xFD}, opt);
}
BENCHMARK(BM_DispatcherRoundTrip);

}  // namespace
