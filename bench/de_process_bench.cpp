// What the confined direct-execution process (hostexec/de_process.h) costs the monitor: one
// command round trip through the control page (futex wake, the stub's futex wait returns, its
// futex wake, the monitor's wait returns), one window page mapped by the stub on command (the
// in-process counterpart is bench_host_costs' BM_MapMemfdPage), and starting a confined stub.
#include <benchmark/benchmark.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

#include "hostexec/de_process.h"

namespace {

constexpr uint64_t kPage = 4096;

int ram_fd() {
  static const int fd = [] {
    int f = memfd_create("bt86-bench-ram", MFD_CLOEXEC);
    return f >= 0 && ftruncate(f, 256 * kPage) == 0 ? f : -1;
  }();
  return fd;
}

void BM_DeProcessRoundTrip(benchmark::State& state) {
  hostexec::DeProcess p(ram_fd());
  for (auto _ : state) p.ping();
}
BENCHMARK(BM_DeProcessRoundTrip);

void BM_DeProcessMapPage(benchmark::State& state) {
  hostexec::DeProcess p(ram_fd());
  uint64_t i = 0;
  for (auto _ : state)
    if (p.map(0x100000, (++i % 256) * kPage, kPage, PROT_READ | PROT_WRITE) != 0)
      return state.SkipWithError("map failed");
}
BENCHMARK(BM_DeProcessMapPage);

void BM_DeProcessStart(benchmark::State& state) {
  for (auto _ : state) hostexec::DeProcess p(ram_fd());
}
BENCHMARK(BM_DeProcessStart);

}  // namespace
