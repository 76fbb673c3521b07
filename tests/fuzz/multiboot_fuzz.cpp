// libFuzzer target: the multiboot loader on any kernel file (input format: loader_input.h),
// with a module and a command line, under ASan and UBSan. Findings: a crash, a sanitizer
// report, an exception other than LoadError, or a returned address outside guest RAM.
#include <cstdio>
#include <cstdlib>

#include "loader_input.h"
#include "multiboot_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = fuzz::parse_loader_input(data, size);
  if (!in) return -1;  // not an input: libFuzzer does not keep it
  std::vector<monitor::MultibootModule> modules;
  if (!in->extra.empty()) modules.push_back({in->extra, "module.bin arg"});
  monitor::BootInfo boot;
  try {
    boot = monitor::load_multiboot(in->kernel, "kernel.elf", "console=ttyS0", modules, in->ram);
  } catch (const monitor::LoadError&) {
    return 0;  // refused with a message: what bad files should get
  }
  if (!fuzz::in_ram(in->ram, boot.entry, 1) || !fuzz::in_ram(in->ram, boot.info_addr, 88) ||
      boot.kernel_start > boot.kernel_end || !fuzz::in_ram(in->ram, boot.kernel_start, 1)) {
    std::fprintf(stderr,
                 "multiboot_fuzz: FINDING: entry %#x, info %#x, kernel %#x..%#x outside "
                 "%#llx bytes of RAM\n",
                 boot.entry, boot.info_addr, boot.kernel_start, boot.kernel_end,
                 (unsigned long long)in->ram.size);
    std::abort();
  }
  return 0;
}
