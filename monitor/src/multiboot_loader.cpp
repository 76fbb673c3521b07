#include "multiboot_loader.h"

#include <elf.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "free_ram.h"
#include "pc_memory_map.h"

namespace monitor {

namespace {
constexpr uint32_t kHeaderMagic = 0x1BADB002;
constexpr uint32_t kSearchBytes = 8192;
// Flags in the header's low half that a loader must understand or refuse: page-align modules,
// memory information, video mode. Bit 16 (load address fields) is for non-ELF images.
constexpr uint32_t kKnownRequiredFlags = 0x7;
constexpr uint32_t kAoutKludge = 1u << 16;

constexpr uint32_t kPage = 4096;

struct Header {
  uint32_t magic, flags, checksum;
};

template <typename T>
T read(const std::vector<uint8_t>& img, size_t off) {
  T v;
  std::memcpy(&v, img.data() + off, sizeof v);
  return v;
}
}  // namespace

BootInfo load_multiboot(const std::vector<uint8_t>& img, const std::string& path,
                        const std::string& cmdline, const std::vector<MultibootModule>& modules,
                        const GuestRam& mem) {
  // 1. The multiboot header: 4-byte aligned, in the first 8 KiB, with a valid checksum.
  std::optional<Header> header;
  for (size_t off = 0; off + 12 <= std::min<size_t>(img.size(), kSearchBytes); off += 4) {
    Header h = read<Header>(img, off);
    if (h.magic == kHeaderMagic && uint32_t(h.magic + h.flags + h.checksum) == 0) {
      header = h;
      break;
    }
  }
  if (!header)
    throw LoadError(
        fmt::format("{}: not a Linux bzImage (no HdrS setup header) and not a multiboot kernel "
                    "(no multiboot v1 header in the first 8 KiB)",
                    path));
  if (header->flags & 0xffff & ~kKnownRequiredFlags)
    throw LoadError(
        fmt::format("{}: the multiboot header requires features bt86 does not "
                    "provide (flags {:#x})",
                    path, header->flags));

  // 2. The ELF32 image.
  if (img.size() < sizeof(Elf32_Ehdr) || std::memcmp(img.data(), ELFMAG, SELFMAG) != 0) {
    if (header->flags & kAoutKludge)
      throw LoadError(
          fmt::format("{}: non-ELF (a.out kludge) multiboot kernels are not "
                      "supported; link the kernel as ELF32",
                      path));
    throw LoadError(fmt::format("{}: not an ELF file", path));
  }
  auto eh = read<Elf32_Ehdr>(img, 0);
  if (eh.e_ident[EI_CLASS] != ELFCLASS32 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
      eh.e_machine != EM_386)
    throw LoadError(fmt::format("{}: not a 32-bit little-endian i386 ELF file", path));
  if (eh.e_type != ET_EXEC) throw LoadError(fmt::format("{}: not an executable ELF file", path));
  if (eh.e_phentsize != sizeof(Elf32_Phdr) || eh.e_phnum == 0 ||
      uint64_t(eh.e_phoff) + uint64_t(eh.e_phnum) * sizeof(Elf32_Phdr) > img.size())
    throw LoadError(fmt::format("{}: truncated ELF file (program headers missing)", path));

  const auto map = pc_memory_map(mem.ram_size());
  FreeRam ram(map);
  BootInfo boot;
  boot.entry = eh.e_entry;
  boot.kernel_start = ~0u;
  unsigned loaded = 0;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    auto ph = read<Elf32_Phdr>(img, eh.e_phoff + i * sizeof(Elf32_Phdr));
    if (ph.p_type != PT_LOAD || ph.p_memsz == 0) continue;
    if (ph.p_filesz > ph.p_memsz)
      throw LoadError(fmt::format("{}: segment {} has a file size above its memory size", path, i));
    if (uint64_t(ph.p_offset) + ph.p_filesz > img.size())
      throw LoadError(
          fmt::format("{}: truncated ELF file (segment {} needs bytes {:#x}..{:#x}, "
                      "the file has {:#x})",
                      path, i, ph.p_offset, uint64_t(ph.p_offset) + ph.p_filesz, img.size()));
    uint8_t* dst = mem.phys(ph.p_paddr, ph.p_memsz);
    if (!dst)
      throw LoadError(fmt::format(
          "{}: segment {} at physical {:#x}..{:#x} lies outside guest "
          "RAM ({} MiB)",
          path, i, ph.p_paddr, uint64_t(ph.p_paddr) + ph.p_memsz, mem.ram_size() >> 20));
    ram.take(ph.p_paddr, ph.p_memsz);
    std::memcpy(dst, img.data() + ph.p_offset, ph.p_filesz);
    std::memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
    boot.kernel_start = std::min(boot.kernel_start, ph.p_paddr);
    boot.kernel_end = std::max(boot.kernel_end, ph.p_paddr + ph.p_memsz);
    ++loaded;
  }
  if (!loaded) throw LoadError(fmt::format("{}: the ELF file has no loadable segments", path));
  if (!mem.phys(boot.entry, 1))
    throw LoadError(fmt::format("{}: entry point {:#x} is outside guest RAM", path, boot.entry));

  // 3. Modules, page aligned above the kernel (where kernels expect them; GRUB and QEMU do the
  // same), then the information structure and what it points to, in RAM nothing uses.
  struct Module {
    uint32_t start, end, string, reserved;
  };
  std::vector<Module> mods;
  for (const auto& m : modules) {
    const uint64_t len = std::max<uint64_t>(m.bytes.size(), 1);
    auto at = ram.take_low(len, kPage, boot.kernel_end);
    if (!at) at = ram.take_low(len, kPage);
    if (!at)
      throw LoadError(
          fmt::format("module '{}' ({} KiB) does not fit in guest RAM beside the "
                      "kernel (see --mem)",
                      m.cmdline, m.bytes.size() >> 10));
    std::memcpy(mem.phys(*at, m.bytes.size()), m.bytes.data(), m.bytes.size());
    mods.push_back({uint32_t(*at), uint32_t(*at + m.bytes.size()), 0, 0});
  }
  auto place = [&](const void* data, uint64_t len) {
    auto at = ram.take_low(len, 16, 0, kEbdaStart);  // low memory first, as GRUB does
    if (!at) at = ram.take_low(len, 16);
    if (!at)
      throw LoadError(fmt::format("{}: no room in guest RAM for the multiboot information", path));
    std::memcpy(mem.phys(*at, len), data, len);
    return uint32_t(*at);
  };
  for (size_t i = 0; i < mods.size(); ++i)
    mods[i].string = place(modules[i].cmdline.c_str(), modules[i].cmdline.size() + 1);

  struct MmapEntry {
    uint32_t size;
    uint64_t addr, len;
    uint32_t type;
  } __attribute__((packed));
  std::vector<MmapEntry> mmap;
  for (const auto& e : map) mmap.push_back({20, e.addr, e.len, uint32_t(e.type)});
  uint32_t info[22] = {};
  const uint32_t info_addr = place(info, sizeof info);
  const uint32_t mmap_addr = place(mmap.data(), mmap.size() * sizeof(MmapEntry));
  // GRUB and QEMU start the command line with the kernel's path.
  const std::string full_cmdline = cmdline.empty() ? path : path + " " + cmdline;
  const uint32_t cmd_addr = place(full_cmdline.c_str(), full_cmdline.size() + 1);
  const char loader[] = "bt86";
  const uint32_t name_addr = place(loader, sizeof loader);
  info[0] = (1u << 0) | (1u << 2) | (1u << 6) | (1u << 9);  // mem, cmdline, mmap, loader name
  info[1] = uint32_t(conventional_ram(map) >> 10);          // mem_lower (KiB)
  info[2] = uint32_t(ram_above_1m(map) >> 10);              // mem_upper (KiB)
  info[4] = cmd_addr;
  if (!mods.empty()) {
    info[0] |= 1u << 3;
    info[5] = uint32_t(mods.size());
    info[6] = place(mods.data(), mods.size() * sizeof(Module));
  }
  info[11] = uint32_t(mmap.size() * sizeof(MmapEntry));  // mmap_length
  info[12] = mmap_addr;
  info[16] = name_addr;
  std::memcpy(mem.phys(info_addr, sizeof info), info, sizeof info);
  boot.info_addr = info_addr;
  return boot;
}

}  // namespace monitor
