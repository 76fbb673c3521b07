#include "bzimage_loader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "free_ram.h"
#include "linux_setup_header.h"
#include "load_error.h"
#include "zero_page.h"

namespace monitor {

namespace {
constexpr uint64_t kPage = 4096;
// Boot data the kernel reads before it has paging: kept in conventional memory.
constexpr uint64_t kLowLimit = kEbdaStart;

// The CPUID.1:EDX bits Linux can require, by name (as /proc/cpuinfo spells them).
std::string feature_names(uint32_t bits) {
  using namespace cpu::feature;
  static constexpr std::pair<uint32_t, const char*> kNames[] = {
      {FPU, "fpu"}, {PSE, "pse"},   {MSR, "msr"},   {PAE, "pae"}, {CX8, "cx8"},
      {PGE, "pge"}, {CMOV, "cmov"}, {FXSR, "fxsr"}, {SSE, "sse"}, {SSE2, "sse2"}};
  std::string s;
  for (auto [bit, name] : kNames)
    if (bits & bit) s += (s.empty() ? "" : " ") + std::string(name);
  return s;
}

// GDT entries 2 and 3: flat 4 GiB code (execute/read) and data (read/write), as boot.rst asks.
constexpr uint64_t kGdt[4] = {0, 0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull};

uint32_t place(FreeRam& ram, const GuestRam& mem, const void* data, uint64_t len, uint64_t align,
               const char* what) {
  auto at = ram.take_low(len, align, 0, kLowLimit);
  if (!at) throw LoadError(fmt::format("no room in conventional memory for the {}", what));
  std::memcpy(mem.phys(*at, len), data, len);
  return uint32_t(*at);
}
}  // namespace

LinuxEntry load_bzimage(const LinuxBootFiles& files, const cpu::CpuModel& model, uint32_t rsdp_addr,
                        const GuestRam& mem) {
  const auto& img = files.kernel;
  const std::string& path = files.kernel_path;
  const SetupHeader h = parse_setup_header(img, path);
  if (h.required_features) {
    const uint32_t missing = *h.required_features & ~model.features;
    if (missing)
      throw LoadError(
          fmt::format("{}: the kernel requires CPU features the {} model does not "
                      "provide in bt86: {}",
                      path, model.name, feature_names(missing)));
  }
  if (files.cmdline.size() > h.cmdline_size)
    throw LoadError(fmt::format("{}: the command line is {} bytes, the kernel accepts at most {}",
                                path, files.cmdline.size(), h.cmdline_size));

  const auto map = pc_memory_map(mem.ram_size());
  FreeRam ram(map);
  const uint32_t load = h.load_address();
  if (!ram.is_free(load, h.init_size))
    throw LoadError(
        fmt::format("{}: the kernel needs RAM at {:#x}..{:#x} ({} MiB), guest RAM "
                    "is {} MiB (see --mem)",
                    path, load, uint64_t(load) + h.init_size,
                    (uint64_t(load) + h.init_size + (1 << 20) - 1) >> 20, mem.ram_size() >> 20));
  ram.take(load, h.init_size);
  std::memcpy(mem.phys(load, h.pm_bytes), img.data() + h.setup_bytes, h.pm_bytes);

  ZeroPageFields zf;
  zf.header.assign(img.begin() + 0x1f1, img.begin() + h.header_end);
  zf.e820 = map;
  zf.load_address = load;
  zf.rsdp_addr = rsdp_addr;
  if (!files.initrd.empty()) {
    const uint64_t limit = uint64_t(h.initrd_addr_max) + 1;
    auto at = ram.take_high(files.initrd.size(), kPage, kHighMemoryStart, limit);
    if (!at)
      throw LoadError(
          fmt::format("{}: the initrd ({} KiB) does not fit in guest RAM below {:#x} "
                      "beside the kernel (see --mem)",
                      files.initrd_path, files.initrd.size() >> 10, limit));
    std::memcpy(mem.phys(*at, files.initrd.size()), files.initrd.data(), files.initrd.size());
    zf.initrd_addr = uint32_t(*at);
    zf.initrd_size = uint32_t(files.initrd.size());
  }
  zf.cmdline_addr =
      place(ram, mem, files.cmdline.c_str(), files.cmdline.size() + 1, 16, "command line");
  LinuxEntry e;
  e.entry = load;
  e.gdt_base = place(ram, mem, kGdt, sizeof kGdt, 16, "boot GDT");
  e.gdt_limit = sizeof kGdt - 1;
  const auto zero_page = build_zero_page(zf);
  e.zero_page = place(ram, mem, zero_page.data(), zero_page.size(), kPage, "zero page");
  return e;
}

}  // namespace monitor
