// libFuzzer target: the Linux boot protocol loader on any kernel file (input format:
// loader_input.h), with an initrd and a command line, under ASan and UBSan. Findings: a crash,
// a sanitizer report, an exception other than LoadError, or a returned address outside guest
// RAM (the zero page, the boot GDT and the kernel's load address must all be in it).
#include <cstdio>
#include <cstdlib>

#include "bzimage_loader.h"
#include "cpu/model.h"
#include "load_error.h"
#include "loader_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = fuzz::parse_loader_input(data, size);
  if (!in) return -1;  // not an input: libFuzzer does not keep it
  monitor::LinuxBootFiles files{in->kernel, "bzImage", "console=ttyS0", in->extra, "initrd"};
  monitor::LinuxEntry e;
  try {
    e = monitor::load_bzimage(files, cpu::default_cpu_model(), 0xe0000, in->ram);
  } catch (const monitor::LoadError&) {
    return 0;  // refused with a message: what bad files should get
  }
  if (!fuzz::in_ram(in->ram, e.entry, 1) || !fuzz::in_ram(in->ram, e.zero_page, 4096) ||
      !fuzz::in_ram(in->ram, e.gdt_base, uint64_t(e.gdt_limit) + 1)) {
    std::fprintf(stderr,
                 "bzimage_fuzz: FINDING: entry %#x, zero page %#x, GDT %#x outside "
                 "%#llx bytes of RAM\n",
                 e.entry, e.zero_page, e.gdt_base, (unsigned long long)in->ram.size);
    std::abort();
  }
  return 0;
}
