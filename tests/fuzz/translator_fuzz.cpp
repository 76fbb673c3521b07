// libFuzzer target: the input is a machine byte, then ring-0 code. Byte 0 chooses the CPU model
// (bits 0-1: cpu::cpu_models() in table order, wrapping) and --strict-memory (bit 2). The code
// runs at 1 MiB in a fresh VM in the multiboot entry state (flat protected mode, paging and
// interrupts off, no IDT), translated (direct execution off: the translator is the target), in a
// forked child under a watchdog (child_run.h). Findings: bt86 dying of a signal (a crash, a UBSan
// report), an exception escaping the machine, bt86 not ending within the grace time after SIGTERM,
// or an exit status bt86 does not define. A VM stop, the guest's own exit (debug-exit), a reset, a
// power-off and the end SIGTERM asks for are all fine: the guest may do anything.
//
// Not under ASan: translated code and the low-4-GiB guest window do not coexist with its shadow
// memory. The monitor is built with UBSan and libFuzzer's coverage (BT86_FUZZ).
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "child_run.h"
#include "code_image.h"
#include "cpu/model.h"
#include "machine.h"

namespace {

constexpr uint64_t kGuestRam = 16ull << 20;

int run_machine(const uint8_t* data, size_t size) {
  const uint8_t machine = data[0];
  const auto image = fuzz::multiboot_code_image(data + 1, size - 1);
  const int fd = memfd_create("fuzz-kernel", 0);
  if (fd < 0 || write(fd, image.data(), image.size()) != ssize_t(image.size())) {
    std::perror("fuzz child: kernel memfd");
    return 99;
  }
  monitor::Config cfg;
  cfg.kernel = "/proc/self/fd/" + std::to_string(fd);
  cfg.mem_bytes = kGuestRam;
  cfg.direct = false;
  const auto models = cpu::cpu_models();
  cfg.cpu_model = &models[(machine & 3) % models.size()];
  cfg.strict_memory = machine & 4;
  monitor::Machine m(cfg);
  return m.run();
}

// The statuses the bt86 machine defines (machine.h), and the guest's own (debug-exit: odd).
bool defined_status(int code) {
  return code == monitor::kExitGuestReset || code == monitor::kExitVmStopped ||
         code == monitor::kExitInterrupted || (code & 1);
}

[[noreturn]] void finding(const std::string& what, const fuzz::ChildResult& r) {
  std::fprintf(stderr, "translator_fuzz: FINDING: %s\n--- the child's stderr ---\n%s\n---\n",
               what.c_str(), r.stderr_text.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return -1;  // no machine byte: not an input
  const auto r = fuzz::run_in_child([&] { return run_machine(data, size); }, fuzz::ChildLimits{});
  using K = fuzz::ChildResult::Kind;
  if (std::getenv("BT86_FUZZ_VERBOSE"))  // what each input did (docs/FUZZING.md)
    std::fprintf(stderr, "translator_fuzz: %s %d%s\n%s", r.kind == K::Exited ? "status" : "signal",
                 r.code, r.terminated ? " after SIGTERM" : "", r.stderr_text.c_str());
  if (r.kind == K::IgnoredSigterm)
    finding("bt86 did not end within the grace time after SIGTERM", r);
  // Outside its run loop (building the machine, the state report) bt86 leaves SIGTERM's
  // default action in place: ending by it is ending as asked.
  const bool ended_by_sigterm = r.terminated && r.code == SIGTERM;
  if (r.kind == K::Signaled && !ended_by_sigterm)
    finding("bt86 died of signal " + std::to_string(r.code), r);
  if (r.kind == K::Exited && !defined_status(r.code))
    finding("bt86 exited with status " + std::to_string(r.code), r);
  return 0;
}
