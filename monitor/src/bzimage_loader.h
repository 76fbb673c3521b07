// Loading a Linux bzImage through the 32-bit boot protocol (Documentation/arch/x86/boot.rst):
// the protected-mode code at its load address, the initrd as high as the kernel allows, the
// command line, a GDT with the boot selectors and the zero page, all in guest RAM.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cpu/model.h"
#include "guest_ram.h"

namespace monitor {

// The boot selectors the protocol requires (__BOOT_CS, __BOOT_DS).
inline constexpr uint16_t kLinuxBootCs = 0x10, kLinuxBootDs = 0x18;

// Where the kernel starts and what its registers must point at.
struct LinuxEntry {
  uint32_t entry = 0;      // the protected-mode code's first byte (startup_32)
  uint32_t zero_page = 0;  // ESI
  uint32_t gdt_base = 0;
  uint16_t gdt_limit = 0;
};

struct LinuxBootFiles {
  const std::vector<uint8_t>& kernel;
  std::string kernel_path;
  std::string cmdline;
  std::vector<uint8_t> initrd;  // empty: none
  std::string initrd_path;
};

// Throws LoadError naming what cannot be booted: header problems (see parse_setup_header), a
// kernel needing CPU features the model lacks, a kernel or initrd that does not fit in RAM, a
// command line longer than the kernel accepts.
LinuxEntry load_bzimage(const LinuxBootFiles& files, const cpu::CpuModel& model, uint32_t rsdp_addr,
                        const GuestRam& mem);

}  // namespace monitor
