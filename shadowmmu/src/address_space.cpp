#include "shadowmmu/address_space.h"

#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace shadowmmu {

namespace {
constexpr uint64_t kPage = 4096;
std::string errstr() {
  return std::strerror(errno);
}

// Reserves [addr, addr+len) as inaccessible, refusing to clobber anything already there.
void reserve(uint64_t addr, uint64_t len) {
  void* p = mmap(reinterpret_cast<void*>(addr), len, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED || reinterpret_cast<uint64_t>(p) != addr) {
    if (p != MAP_FAILED) munmap(p, len);
    throw Error(
        fmt::format("cannot reserve the guest window at {:#x}+{:#x}: {} (is something "
                    "else mapped in the low 8 GiB?)",
                    addr, len, errstr()));
  }
}
}  // namespace

AddressSpace::AddressSpace(uint64_t ram_bytes) : ram_size_(ram_bytes), flags_(ram_bytes / kPage) {
  if (ram_bytes == 0 || ram_bytes % kPage || ram_bytes > (3ull << 30))
    throw Error(fmt::format("guest RAM size {:#x} must be a multiple of 4 KiB and at most 3 GiB",
                            ram_bytes));
  memfd_ = memfd_create("bt86-ram", MFD_CLOEXEC);
  if (memfd_ < 0) throw Error("memfd_create: " + errstr());
  if (ftruncate(memfd_, off_t(ram_bytes)) != 0) {
    close(memfd_);
    throw Error("cannot size guest RAM: " + errstr());
  }
  void* p = mmap(nullptr, ram_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd_, 0);
  if (p == MAP_FAILED) {
    close(memfd_);
    throw Error("cannot map guest RAM: " + errstr());
  }
  physmap_ = static_cast<uint8_t*>(p);
  if (reinterpret_cast<uint64_t>(physmap_) < kWindowSize + kGuardSize) {
    munmap(physmap_, ram_bytes);
    close(memfd_);
    throw Error("the kernel placed guest RAM below 8 GiB; bt86 needs that range for the guest");
  }
  try {
    // Page 0 may be off limits (vm.mmap_min_addr); reserve from the first page we may map.
    uint64_t min_addr = uint64_t(sysconf(_SC_PAGESIZE));
    try {
      reserve(0, kPage);
      reserve(kPage, kWindowSize + kGuardSize - kPage);
      window_start_ = 0;
    } catch (const Error&) {
      munmap(nullptr, kPage);
      reserve(min_addr, kWindowSize + kGuardSize - min_addr);
      window_start_ = min_addr;
    }
  } catch (...) {
    munmap(physmap_, ram_bytes);
    close(memfd_);
    throw;
  }
  window_reserved_ = true;
}

AddressSpace::~AddressSpace() {
  if (window_reserved_) munmap(nullptr, kWindowSize + kGuardSize);
  if (physmap_) munmap(physmap_, ram_size_);
  if (memfd_ >= 0) close(memfd_);
}

void AddressSpace::map_identity() {
  // Try page 0 first; the host may refuse it, and then only [4 KiB, ram) is mapped.
  void* p = mmap(nullptr, ram_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, memfd_, 0);
  if (p == MAP_FAILED) {
    void* q = mmap(reinterpret_cast<void*>(kPage), ram_size_ - kPage, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_FIXED, memfd_, kPage);
    if (q == MAP_FAILED) throw Error("cannot map guest RAM into the window: " + errstr());
    calls_.maps++;
    page0_mapped_ = false;
    // Paging off: ring 3 may use every page (there is no U/S).
    report(WindowChange::Kind::Map, kPage, ram_size_ - kPage, PROT_READ | PROT_WRITE, kPage,
           Ring3::Allowed);
  } else {
    calls_.maps++;
    page0_mapped_ = true;
    report(WindowChange::Kind::Map, 0, ram_size_, PROT_READ | PROT_WRITE, 0, Ring3::Allowed);
  }
  identity_ = true;
  for (uint32_t p = 0; p < flags_.size(); ++p)
    if (flags_[p]) apply_identity_prot(p << 12);
}

void AddressSpace::unmap_window() {
  // munmap first: at the host's mapping limit every mmap fails, even one that would replace
  // thousands of mappings by one. Nothing else maps memory in between (one thread).
  void* at = reinterpret_cast<void*>(window_start_);
  if (munmap(at, kWindowSize - window_start_) != 0)
    throw Error("cannot clear the guest window: " + errstr());
  void* p = mmap(at, kWindowSize - window_start_, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (p != at) throw Error("cannot reserve the guest window again: " + errstr());
  calls_.unmaps++;
  report(WindowChange::Kind::Unmap, window_start_, kWindowSize - window_start_);
  identity_ = false;
  page0_mapped_ = false;
}

bool AddressSpace::map_page(uint32_t linear, uint32_t phys, int prot, Ring3 ring3) {
  void* want = reinterpret_cast<void*>(uint64_t(linear & ~0xfffu));
  void* p = mmap(want, kPage, prot, MAP_SHARED | MAP_FIXED, memfd_, off_t(phys & ~0xfffu));
  if (p == MAP_FAILED) {
    if (errno == ENOMEM) return false;
    throw Error(fmt::format("cannot map guest page {:#x} at {:#x}: {}", phys, linear, errstr()));
  }
  calls_.maps++;
  report(WindowChange::Kind::Map, uint64_t(linear & ~0xfffu), kPage, prot, phys & ~0xfffu, ring3);
  identity_ = false;
  return true;
}

bool AddressSpace::map_all_ones(uint32_t linear, bool writable) {
  const uint64_t at = linear & ~0xfffu;
  if (at < window_start_) return false;
  void* p = mmap(reinterpret_cast<void*>(at), kPage, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (p == MAP_FAILED) {
    if (errno == ENOMEM) return false;
    throw Error(fmt::format("cannot map an all-ones page at {:#x}: {}", at, errstr()));
  }
  calls_.maps++;
  std::memset(p, 0xff, kPage);
  if (!writable && mprotect(p, kPage, PROT_READ) != 0)
    throw Error(fmt::format("mprotect of window page {:#x}: {}", at, errstr()));
  if (!writable) calls_.protects++;
  return true;
}

bool AddressSpace::protect_pages(uint32_t linear, uint32_t count, int prot, Ring3 ring3) {
  const uint64_t at = linear & ~0xfffu;
  if (mprotect(reinterpret_cast<void*>(at), kPage * count, prot) == 0) {
    calls_.protects++;
    report(WindowChange::Kind::Protect, at, kPage * count, prot, 0, ring3);
    return true;
  }
  if (errno == ENOMEM) return false;
  throw Error(fmt::format("mprotect of window page {:#x}: {}", at, errstr()));
}

void AddressSpace::set_page_flag(uint32_t phys, PageFlag f, bool on) {
  uint32_t p = phys >> 12;
  if (p >= flags_.size()) return;
  flags_[p] = on ? (flags_[p] | f) : (flags_[p] & ~f);
}

void AddressSpace::apply_identity_prot(uint32_t phys) {
  const uint64_t at = phys & ~0xfffu;
  if (!identity_ || at < window_start_ || at + kPage > ram_size_) return;
  const uint8_t f = page_flags(phys);
  const int prot =
      PROT_READ | (f & kReadOnlyFlags ? 0 : PROT_WRITE) | (f & kDirect ? PROT_EXEC : 0);
  if (mprotect(reinterpret_cast<void*>(at), kPage, prot) != 0)
    throw Error(fmt::format("mprotect of guest page {:#x}: {}", at, errstr()));
  calls_.protects++;
  report(WindowChange::Kind::Protect, at, kPage, prot, 0, Ring3::Allowed);  // paging off
}

bool AddressSpace::unmap_page(uint32_t linear) {
  uint64_t at = linear & ~0xfffu;
  if (at < window_start_) return true;
  void* p = mmap(reinterpret_cast<void*>(at), kPage, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  if (p != MAP_FAILED) {
    calls_.unmaps++;
    report(WindowChange::Kind::Unmap, at, kPage);
    return true;
  }
  if (errno == ENOMEM) return false;
  throw Error("cannot unmap a guest page: " + errstr());
}

std::string AddressSpace::HostCalls::report() const {
  return fmt::format("  host calls changing the window {} ({} mmap, {} unmap, {} mprotect)\n",
                     maps + unmaps + protects, maps, unmaps, protects);
}

}  // namespace shadowmmu
