/* A static i386 Linux program the Debian guest test runs inside the guest (tests/linux): it
   exercises what user space needs from the CPU and the kernel beyond busybox — signals (a
   handler, a fault caught and left with siglongjmp), threads (clone through pthreads), mmap,
   mprotect and munmap, and SSE arithmetic (the Pentium III's) — and prints one line per part
   with values the test checks. Exits 0 only if every part passed. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xmmintrin.h>

static volatile sig_atomic_t usr1_seen;
static sigjmp_buf segv_jump;
static volatile void* segv_addr;

static void on_usr1(int sig) { usr1_seen = sig; }
static void on_segv(int sig, siginfo_t* si, void* ctx) {
  (void)sig, (void)ctx;
  segv_addr = si->si_addr;
  siglongjmp(segv_jump, 1);
}

static int check_signals(void) {
  signal(SIGUSR1, on_usr1);
  raise(SIGUSR1);
  printf("PROBE signal %d delivered %d\n", SIGUSR1, (int)usr1_seen);
  return usr1_seen == SIGUSR1;
}

static int check_memory(void) {
  const size_t len = 1 << 20;
  uint8_t* p = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return 0;
  volatile uint32_t sum = 0;
  for (size_t i = 0; i < len; i += 4096) p[i] = (uint8_t)(i >> 12);
  for (size_t i = 0; i < len; i += 4096) sum += p[i];
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, 0);
  volatile int faulted = 0;
  mprotect(p, len, PROT_READ);
  if (sigsetjmp(segv_jump, 1) == 0)
    p[8192] = 1; /* read-only now: SIGSEGV at exactly this address */
  else
    faulted = segv_addr == p + 8192;
  munmap(p, len);
  printf("PROBE mmap sum %u write-protect fault %d\n", sum, faulted);
  return sum == 32640 && faulted;
}

struct work {
  uint32_t from, to;
  uint64_t sum;
};
static void* worker(void* arg) {
  struct work* w = arg;
  for (uint32_t i = w->from; i < w->to; i++) w->sum += (uint64_t)i * i;
  return 0;
}

static int check_threads(void) {
  enum { kThreads = 4, kPer = 250000 };
  pthread_t t[kThreads];
  struct work w[kThreads];
  for (int i = 0; i < kThreads; i++) {
    w[i] = (struct work){(uint32_t)i * kPer, (uint32_t)(i + 1) * kPer, 0};
    if (pthread_create(&t[i], 0, worker, &w[i])) return 0;
  }
  uint64_t total = 0;
  for (int i = 0; i < kThreads; i++) {
    pthread_join(t[i], 0);
    total += w[i].sum;
  }
  printf("PROBE threads %d sum %llu\n", kThreads, (unsigned long long)total);
  return total == 333332833333500000ull;
}

static sigjmp_buf ill_jump;
static void on_ill(int sig) {
  (void)sig;
  siglongjmp(ill_jump, 1);
}

/* A CPU without SSE (the Pentium II model) must raise #UD for it: SIGILL here. */
static int check_sse_absent(void) {
  signal(SIGILL, on_ill);
  volatile int raised = 0;
  if (sigsetjmp(ill_jump, 1) == 0)
    __asm__ volatile("addps %%xmm0, %%xmm0" ::: "xmm0");
  else
    raised = 1;
  printf("PROBE sse absent, addps raises SIGILL %d\n", raised);
  return raised;
}

static int check_sse(void) {
  uint32_t eax, ebx, ecx, edx;
  __asm__("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(1));
  if (!(edx & (1u << 25))) return check_sse_absent();
  float in[4] = {1.5f, -2.25f, 3.0f, 0.125f}, out[4];
  __m128 a = _mm_loadu_ps(in);
  __m128 b = _mm_mul_ps(_mm_add_ps(a, _mm_set1_ps(0.5f)), a); /* (x + 0.5) * x */
  _mm_storeu_ps(out, _mm_sqrt_ps(_mm_max_ps(b, _mm_setzero_ps())));
  printf("PROBE sse %.4f %.4f %.4f %.4f mxcsr %#x\n", out[0], out[1], out[2], out[3],
         _mm_getcsr());
  const float want[4] = {1.7320508f, 1.9843135f, 3.2403703f, 0.2795085f};
  /* every exception masked, as at exec; the inexact results set PE (0x20) */
  int ok = (_mm_getcsr() & 0x1f80) == 0x1f80 && (_mm_getcsr() & 0x20);
  for (int i = 0; i < 4; i++) ok &= out[i] > want[i] - 1e-6f && out[i] < want[i] + 1e-6f;
  return ok;
}

int main(void) {
  int ok = check_signals();
  ok &= check_memory();
  ok &= check_threads();
  ok &= check_sse();
  printf("PROBE %s\n", ok ? "ALL OK" : "FAILED");
  return ok ? 0 : 1;
}
