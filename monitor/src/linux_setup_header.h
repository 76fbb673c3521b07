// The setup header of a Linux bzImage (Documentation/arch/x86/boot.rst): what the loader must
// know to place the kernel and what it must refuse. Parsing only; nothing is loaded here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace monitor {

struct SetupHeader {
  uint16_t version = 0;  // boot protocol, e.g. 0x020f
  uint8_t loadflags = 0;
  uint32_t code32_start = 0;  // where a non-relocatable kernel's protected-mode code goes
  uint32_t initrd_addr_max = 0;
  uint32_t kernel_alignment = 0;
  bool relocatable = false;
  uint16_t xloadflags = 0;
  uint32_t cmdline_size = 0;  // longest command line, without the terminating zero
  uint64_t pref_address = 0;
  uint32_t init_size = 0;    // memory the kernel needs from its load address until it runs
  uint32_t setup_bytes = 0;  // the real-mode part's size: the protected-mode code follows it
  uint32_t pm_bytes = 0;     // the protected-mode code's size in the file
  uint32_t header_end = 0;   // end offset of the header (0x202 + the byte at 0x201)
  // CPUID.1:EDX bits the kernel's own (real-mode) CPU check requires, where it could be found.
  std::optional<uint32_t> required_features;
  std::string version_string;  // kernel_version, when present

  // Where the loader places the protected-mode code: the preferred address, aligned as the
  // kernel asks, for relocatable kernels; code32_start for the others.
  uint32_t load_address() const;
};

// Loadflags and xloadflags bits the loader looks at.
inline constexpr uint8_t kLoadedHigh = 0x01, kCanUseHeap = 0x80;
inline constexpr uint16_t kXlfKernel64 = 0x01;
inline constexpr uint16_t kMinProtocol = 0x020a;  // 2.10: pref_address and init_size

// Whether the file starts like a bzImage: the boot-sector flag 0xAA55 and "HdrS".
bool looks_like_bzimage(const std::vector<uint8_t>& img);

// Parses and checks the header; throws LoadError naming the problem (truncated file, protocol
// too old, a zImage, a 64-bit kernel, fields no real kernel has).
SetupHeader parse_setup_header(const std::vector<uint8_t>& img, const std::string& path);

}  // namespace monitor
