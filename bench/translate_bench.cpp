// Full cost of translating a unit (decode + emit + install into the cache) over real 32-bit
// code: the test guests' text, cut into units by a linear sweep.
#include <benchmark/benchmark.h>

#include <cstring>
#include <sstream>

#include "bench_arena.h"

namespace {

// With `superblocks`, the units start where the sweep (without them) started them, and may go
// on through direct jmp/call.
void translate_units(benchmark::State& state, bool superblocks) {
  bench::Arena arena(0x100000, 0x200000);
  bench::Machine m(arena);
  std::vector<uint32_t> starts;
  std::stringstream corpus(BT86_BENCH_CORPUS);
  std::string path;
  uint32_t offset = 0;
  while (std::getline(corpus, path, ':')) {
    // Guests are linked at 1 MiB; lay the files out one after the other.
    for (auto& [addr, bytes] : bench::load_code_segments(path)) {
      uint32_t at = addr + offset;
      if (at + bytes.size() > arena.base + arena.size) continue;
      std::memcpy(arena.at(at), bytes.data(), bytes.size());
      starts.push_back(at);
      starts.push_back(at + uint32_t(bytes.size()));
    }
    offset += 0x80000;
  }
  m.cpu.reset_multiboot(0x100000, 0, 0);
  // Unit start addresses from a sweep: each unit starts where the previous one ended.
  std::vector<uint32_t> units;
  {
    bt::Engine sweep(m.cpu, m);
    for (size_t i = 0; i + 1 < starts.size(); i += 2) {
      for (uint32_t eip = starts[i]; eip < starts[i + 1];) {
        units.push_back(eip);
        uint32_t guest_bytes = 0;
        sweep.translate_for_bench(eip, &guest_bytes);
        eip += guest_bytes ? guest_bytes : 1;
      }
    }
  }
  bt::Options opt;
  opt.superblocks = superblocks;
  bt::Engine engine(m.cpu, m, opt);
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    bytes += engine.translate_for_bench(units[i]);
    if (++i == units.size()) i = 0;
  }
  state.counters["units_in_corpus"] = double(units.size());
  state.counters["host_bytes_per_unit"] = double(bytes) / double(state.iterations());
  state.counters["guest_insns_per_unit"] =
      double(engine.stats().guest_instructions) / double(engine.stats().units);
}
void BM_TranslateUnit(benchmark::State& state) {
  translate_units(state, false);
}
BENCHMARK(BM_TranslateUnit);
void BM_TranslateUnitSuperblocks(benchmark::State& state) {
  translate_units(state, true);
}
BENCHMARK(BM_TranslateUnitSuperblocks);

}  // namespace
