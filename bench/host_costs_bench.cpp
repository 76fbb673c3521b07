// What the host charges for the mechanisms the shadow MMU is made of: a write fault caught by
// a SIGSEGV handler, taking a page's rights away and giving them back (mprotect), mapping one
// page of a memfd (mmap), and first touches of fresh memory (the native side of pagebench's
// touch64m). On a paravirtualized host every one of them changes page tables the hypervisor
// shadows, and they dominate the paging numbers in docs/PERFORMANCE.md.
#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace {

constexpr size_t kPage = 4096;
char* g_fault_page = nullptr;

void give_back_write(int, siginfo_t*, void*) {
  mprotect(g_fault_page, kPage, PROT_READ | PROT_WRITE);
}

// A page made read-only, then written: the fault, the handler's mprotect, sigreturn, and the
// write again. Each iteration also pays the mprotect that takes the right away.
void BM_WriteFaultRoundTrip(benchmark::State& state) {
  g_fault_page = static_cast<char*>(
      mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (g_fault_page == MAP_FAILED) return state.SkipWithError("mmap failed");
  struct sigaction sa = {}, old = {};
  sa.sa_sigaction = give_back_write;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, &old);
  for (auto _ : state) {
    mprotect(g_fault_page, kPage, PROT_READ);
    *reinterpret_cast<volatile char*>(g_fault_page) = 1;
  }
  sigaction(SIGSEGV, &old, nullptr);
  munmap(g_fault_page, kPage);
}
BENCHMARK(BM_WriteFaultRoundTrip);

// Parking and unparking `pages` pages in one run (PROT_NONE, then read-write), and touching
// the first one afterwards: the cost per run of parking on every entry to ring 3 and
// unparking on every entry to ring 0 (what the shadow did before lazy unparking).
void BM_ParkUnparkRun(benchmark::State& state) {
  const size_t pages = size_t(state.range(0));
  auto* p = static_cast<char*>(
      mmap(nullptr, pages * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (p == MAP_FAILED) return state.SkipWithError("mmap failed");
  for (size_t i = 0; i < pages; ++i) p[i * kPage] = 1;
  for (auto _ : state) {
    mprotect(p, pages * kPage, PROT_NONE);
    mprotect(p, pages * kPage, PROT_READ | PROT_WRITE);
    *reinterpret_cast<volatile char*>(p) = 1;
  }
  munmap(p, pages * kPage);
}
BENCHMARK(BM_ParkUnparkRun)->Arg(1)->Arg(8);

// Replacing a window page by another page of guest RAM (a memfd), and the first touch.
void BM_MapMemfdPage(benchmark::State& state) {
  const int fd = memfd_create("bt86-bench", MFD_CLOEXEC);
  if (fd < 0 || ftruncate(fd, 256 * kPage) != 0) return state.SkipWithError("memfd failed");
  auto* at = static_cast<char*>(mmap(nullptr, kPage, PROT_READ, MAP_SHARED, fd, 0));
  uint64_t i = 0;
  for (auto _ : state) {
    mmap(at, kPage, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, off_t((++i % 256) * kPage));
    *reinterpret_cast<volatile char*>(at) = 1;
  }
  munmap(at, kPage);
  close(fd);
}
BENCHMARK(BM_MapMemfdPage);

// The native counterpart of pagebench's touch64m: a process writing once to each page of 64
// MiB of fresh anonymous memory (one host page fault each). Time per page.
void BM_TouchFreshPages(benchmark::State& state) {
  constexpr size_t kBytes = 64u << 20;
  for (auto _ : state) {
    auto* p = static_cast<char*>(
        mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (p == MAP_FAILED) return state.SkipWithError("mmap failed");
    for (size_t off = 0; off < kBytes; off += kPage) *reinterpret_cast<volatile char*>(p + off) = 1;
    state.PauseTiming();
    munmap(p, kBytes);
    state.ResumeTiming();
  }
  state.counters["ns_per_page"] =
      benchmark::Counter(double(state.iterations()) * double(kBytes / kPage),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_TouchFreshPages)->Unit(benchmark::kMillisecond);

}  // namespace
