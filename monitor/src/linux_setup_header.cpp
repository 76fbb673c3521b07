#include "linux_setup_header.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "cpu/model.h"
#include "load_error.h"

namespace monitor {

namespace {
// Field offsets in the file (and in the zero page, where the header is copied to).
enum : uint32_t {
  kSetupSects = 0x1f1,
  kSyssize = 0x1f4,
  kBootFlag = 0x1fe,
  kJump = 0x200,
  kHeaderMagic = 0x202,
  kVersion = 0x206,
  kKernelVersion = 0x20e,
  kLoadflags = 0x211,
  kCode32Start = 0x214,
  kInitrdAddrMax = 0x22c,
  kKernelAlignment = 0x230,
  kRelocatable = 0x234,
  kXloadflags = 0x236,
  kCmdlineSize = 0x238,
  kPrefAddress = 0x258,
  kInitSize = 0x260,
  kHeader210End = 0x264,       // the fields a 2.10 header has
  kZeroPageHeaderEnd = 0x290,  // struct boot_params has room for the header up to here
};

template <typename T>
T get(const std::vector<uint8_t>& img, uint32_t off) {
  T v;
  std::memcpy(&v, img.data() + off, sizeof v);
  return v;
}

bool power_of_two(uint64_t v) {
  return v && !(v & (v - 1));
}

// The kernel's real-mode CPU check (arch/x86/boot/cpucheck.c) keeps the CPUID.1:EDX bits the
// kernel was built to require in req_flags[0], which the compiler places right after the
// 'forcepae' warning string of the same file. The 32-bit protocol skips that check, so the
// loader repeats it. Only a value made of bits Linux can require (fpu, pse, msr, pae, cx8, pge,
// cmov, fxsr, sse, sse2) is accepted; otherwise the requirement is unknown.
std::optional<uint32_t> find_required_features(const std::vector<uint8_t>& img,
                                               uint32_t setup_bytes) {
  using namespace cpu::feature;
  constexpr std::string_view kAnchor = "'forcepae' to enable at your own risk!\n";
  constexpr uint32_t kPossible = FPU | PSE | MSR | PAE | CX8 | PGE | CMOV | FXSR | SSE | SSE2;
  const auto begin = img.begin(), end = img.begin() + setup_bytes;
  auto at = std::search(begin, end, kAnchor.begin(), kAnchor.end());
  if (at == end) return std::nullopt;
  uint32_t off = uint32_t(at - begin) + uint32_t(kAnchor.size());
  for (off = (off + 3) & ~3u; off + 4 <= setup_bytes && off < (at - begin) + 128u; off += 4) {
    const auto v = get<uint32_t>(img, off);
    if (!v) continue;
    if ((v & ~kPossible) || !(v & FPU)) return std::nullopt;
    return v;
  }
  return std::nullopt;
}
}  // namespace

bool looks_like_bzimage(const std::vector<uint8_t>& img) {
  return img.size() >= kVersion + 2 && get<uint16_t>(img, kBootFlag) == 0xaa55 &&
         std::memcmp(&img[kHeaderMagic], "HdrS", 4) == 0;
}

uint32_t SetupHeader::load_address() const {
  if (!relocatable) return code32_start;
  const uint64_t a = kernel_alignment;
  return uint32_t((pref_address + a - 1) & ~(a - 1));
}

SetupHeader parse_setup_header(const std::vector<uint8_t>& img, const std::string& path) {
  auto fail = [&](const std::string& what) { return LoadError(fmt::format("{}: {}", path, what)); };
  if (!looks_like_bzimage(img)) throw fail("not a Linux bzImage (no 0xAA55 boot flag and HdrS)");
  SetupHeader h;
  h.version = get<uint16_t>(img, kVersion);
  if (h.version < kMinProtocol)
    throw fail(
        fmt::format("Linux boot protocol {}.{:02} is too old (bt86 needs 2.10, Linux "
                    "2.6.31 or later)",
                    h.version >> 8, h.version & 0xff));
  if (img.size() < kHeader210End) throw fail("truncated bzImage (the setup header is cut short)");
  h.header_end = kJump + 2 + img[kJump + 1];
  if (h.header_end < kHeader210End || h.header_end > kZeroPageHeaderEnd)
    throw fail(
        fmt::format("absurd setup header: it ends at {:#x}, a 2.10+ header ends between "
                    "{:#x} and {:#x}",
                    h.header_end, uint32_t(kHeader210End), uint32_t(kZeroPageHeaderEnd)));
  h.loadflags = img[kLoadflags];
  h.code32_start = get<uint32_t>(img, kCode32Start);
  h.initrd_addr_max = get<uint32_t>(img, kInitrdAddrMax);
  h.kernel_alignment = get<uint32_t>(img, kKernelAlignment);
  h.relocatable = img[kRelocatable] != 0;
  h.xloadflags = get<uint16_t>(img, kXloadflags);
  h.cmdline_size = get<uint32_t>(img, kCmdlineSize);
  h.pref_address = get<uint64_t>(img, kPrefAddress);
  h.init_size = get<uint32_t>(img, kInitSize);

  if (h.xloadflags & kXlfKernel64)
    throw fail("a 64-bit (x86-64) kernel; bt86 runs 32-bit x86 kernels only");
  if (!(h.loadflags & kLoadedHigh))
    throw fail("a zImage (loaded below 1 MiB); bt86 boots bzImages only");

  const uint32_t sects = img[kSetupSects] ? img[kSetupSects] : 4;
  h.setup_bytes = (sects + 1) * 512;
  const uint64_t pm_declared = uint64_t(get<uint32_t>(img, kSyssize)) * 16;
  if (h.setup_bytes >= img.size() || pm_declared > img.size() - h.setup_bytes)
    throw fail(
        fmt::format("truncated bzImage: the header announces {:#x} bytes of setup code and "
                    "{:#x} of protected-mode code, the file has {:#x} bytes",
                    h.setup_bytes, pm_declared, img.size()));
  h.pm_bytes = uint32_t(img.size() - h.setup_bytes);

  constexpr uint64_t k1M = 1 << 20, k4G = 1ull << 32;
  if (h.relocatable && (!power_of_two(h.kernel_alignment) || h.kernel_alignment > (1u << 30)))
    throw fail(
        fmt::format("absurd setup header: kernel_alignment {:#x} is not a power of two "
                    "up to 1 GiB",
                    h.kernel_alignment));
  const uint64_t load = h.relocatable ? h.load_address() : h.code32_start;
  if (load < k1M || load >= k4G || (h.relocatable && h.pref_address >= k4G))
    throw fail(
        fmt::format("absurd setup header: the kernel wants to be loaded at {:#x}, "
                    "outside [1 MiB, 4 GiB)",
                    h.relocatable ? h.pref_address : h.code32_start));
  if (h.init_size < h.pm_bytes || h.init_size > (1u << 30))
    throw fail(
        fmt::format("absurd setup header: init_size {:#x} is below the protected-mode "
                    "code's {:#x} bytes or above 1 GiB",
                    h.init_size, h.pm_bytes));
  if (h.cmdline_size == 0)
    throw fail("absurd setup header: the kernel accepts no command line (cmdline_size 0)");

  h.required_features = find_required_features(img, h.setup_bytes);
  const uint16_t kv = get<uint16_t>(img, kKernelVersion);
  if (kv) {
    for (uint32_t i = kv + 0x200u; i < h.setup_bytes && img[i] && h.version_string.size() < 128;
         ++i)
      h.version_string += char(img[i]);
  }
  return h;
}

}  // namespace monitor
