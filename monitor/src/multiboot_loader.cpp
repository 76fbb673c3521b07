#include "multiboot_loader.h"

#include <elf.h>
#include <fmt/format.h>

#include <cstring>
#include <optional>

namespace monitor {

namespace {
constexpr uint32_t kHeaderMagic = 0x1BADB002;
constexpr uint32_t kSearchBytes = 8192;
// Flags in the header's low half that a loader must understand or refuse: page-align modules,
// memory information, video mode. Bit 16 (load address fields) is for non-ELF images.
constexpr uint32_t kKnownRequiredFlags = 0x7;
constexpr uint32_t kAoutKludge = 1u << 16;

// Where the loader puts the information structure and what it points to: low memory, below
// the 640 KiB mark, where multiboot kernels (linked at 1 MiB and up) do not load.
constexpr uint32_t kInfoBase = 0x1000;
constexpr uint32_t kInfoLimit = 0x9000;

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
                        const std::string& cmdline, shadowmmu::AddressSpace& as) {
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
    uint8_t* dst = as.phys(ph.p_paddr, ph.p_memsz);
    if (!dst)
      throw LoadError(
          fmt::format("{}: segment {} at physical {:#x}..{:#x} lies outside guest "
                      "RAM ({} MiB)",
                      path, i, ph.p_paddr, uint64_t(ph.p_paddr) + ph.p_memsz, as.ram_size() >> 20));
    if (ph.p_paddr < kInfoLimit && ph.p_paddr + ph.p_memsz > kInfoBase)
      throw LoadError(
          fmt::format("{}: segment {} overlaps low memory the loader uses "
                      "({:#x}..{:#x})",
                      path, i, kInfoBase, kInfoLimit));
    std::memcpy(dst, img.data() + ph.p_offset, ph.p_filesz);
    std::memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
    boot.kernel_start = std::min(boot.kernel_start, ph.p_paddr);
    boot.kernel_end = std::max(boot.kernel_end, ph.p_paddr + ph.p_memsz);
    ++loaded;
  }
  if (!loaded) throw LoadError(fmt::format("{}: the ELF file has no loadable segments", path));
  if (!as.phys(boot.entry, 1))
    throw LoadError(fmt::format("{}: entry point {:#x} is outside guest RAM", path, boot.entry));

  // 3. The multiboot information structure and what it points to.
  struct MmapEntry {
    uint32_t size;
    uint64_t addr, len;
    uint32_t type;
  } __attribute__((packed));
  const uint64_t ram = as.ram_size();
  std::vector<MmapEntry> mmap = {
      {20, 0, 0x9fc00, 1},
      {20, 0x9fc00, 0x400, 2},
      {20, 0xf0000, 0x10000, 2},
  };
  if (ram > 0x100000) mmap.push_back({20, 0x100000, ram - 0x100000, 1});

  uint32_t at = kInfoBase;
  auto place = [&](const void* data, uint32_t len) {
    uint32_t addr = at;
    if (at + len > kInfoLimit) throw LoadError("the command line is too long");
    std::memcpy(as.phys(addr, len), data, len);
    at = (at + len + 15) & ~15u;
    return addr;
  };
  uint32_t info[22] = {};
  const uint32_t info_addr = place(info, sizeof info);
  const uint32_t mmap_addr = place(mmap.data(), uint32_t(mmap.size() * sizeof(MmapEntry)));
  const uint32_t cmd_addr = place(cmdline.c_str(), uint32_t(cmdline.size() + 1));
  const char loader[] = "bt86";
  const uint32_t name_addr = place(loader, sizeof loader);
  info[0] = (1u << 0) | (1u << 2) | (1u << 6) | (1u << 9);  // mem, cmdline, mmap, loader name
  info[1] = 639;                                            // mem_lower (KiB)
  info[2] = ram > 0x100000 ? uint32_t((ram - 0x100000) >> 10) : 0;  // mem_upper (KiB)
  info[4] = cmd_addr;
  info[11] = uint32_t(mmap.size() * sizeof(MmapEntry));  // mmap_length
  info[12] = mmap_addr;
  info[16] = name_addr;
  std::memcpy(as.phys(info_addr, sizeof info), info, sizeof info);
  boot.info_addr = info_addr;
  return boot;
}

}  // namespace monitor
