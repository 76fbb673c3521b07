// The host address space of one VM (DESIGN §3): guest RAM as a memfd, the monitor's physmap of
// it above 4 GiB, and the shadow window [0, 4 GiB) where guest linear X is host address X.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "shadowmmu/mmio.h"
#include "shadowmmu/window_sink.h"

namespace shadowmmu {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class AddressSpace {
 public:
  static constexpr uint64_t kWindowSize = 4ull << 30;
  // Guard after the window: a 32-bit address plus a segment base (host GS base) can reach up to
  // 8 GiB; that range must fault rather than land in monitor memory.
  static constexpr uint64_t kGuardSize = 4ull << 30;

  // Creates RAM and reserves the window. Throws Error with a clear message on failure.
  explicit AddressSpace(uint64_t ram_bytes);
  ~AddressSpace();
  AddressSpace(const AddressSpace&) = delete;
  AddressSpace& operator=(const AddressSpace&) = delete;

  uint64_t ram_size() const { return ram_size_; }
  uint8_t* physmap() const { return physmap_; }
  // Host pointer to guest-physical bytes [pa, pa+len), or nullptr if they are not all RAM.
  uint8_t* phys(uint64_t pa, uint64_t len) const {
    return pa + len <= ram_size_ && pa + len >= pa ? physmap_ + pa : nullptr;
  }

  // What answers guest-physical addresses outside RAM (nullptr: nothing, all ones).
  void set_mmio(MmioHandler* h) { mmio_ = h; }
  MmioHandler* mmio() const { return mmio_; }

  // Told about every change of the window's host mappings from now on (nullptr: nobody). Set
  // it before the first change, so that replaying what it saw rebuilds the window.
  void set_window_sink(WindowSink* s) { sink_ = s; }
  // The guest RAM memfd (shared with the confined direct-execution process).
  int ram_fd() const { return memfd_; }

  // Paging off: maps all of RAM at window address 0 so guest linear = physical = host address.
  // Page 0 stays unmapped where the host forbids it (vm.mmap_min_addr); see page0_mapped().
  void map_identity();
  void unmap_window();
  // One guest-physical page at a window address (guest paging), or nothing there again, or
  // other rights for window pages. Each returns false when the host refuses the mappings it
  // would take (vm.max_map_count: splitting a mapping takes one more); any other failure
  // throws. unmap_window() always reduces the count. `ring3` says whether guest ring 3 may use
  // the pages as mapped (window_sink.h): the window sink is told.
  [[nodiscard]] bool map_page(uint32_t linear, uint32_t phys, int prot, Ring3 ring3);
  [[nodiscard]] bool unmap_page(uint32_t linear);
  [[nodiscard]] bool protect_page(uint32_t linear, int prot, Ring3 ring3) {
    return protect_pages(linear, 1, prot, ring3);
  }
  [[nodiscard]] bool protect_pages(uint32_t linear, uint32_t count, int prot, Ring3 ring3);
  // A page the monitor's window does not hold but a direct-execution process does (Shadow,
  // with one process per address space) comes, goes, or gets other rights: only the sink is
  // told.
  void map_elsewhere(uint32_t linear, uint32_t phys, int prot) {
    report(WindowChange::Kind::Map, linear & ~0xfffu, 4096, prot, phys & ~0xfffu, Ring3::Allowed);
  }
  void unmap_elsewhere(uint32_t linear) {
    report(WindowChange::Kind::Unmap, linear & ~0xfffu, 4096);
  }
  void protect_elsewhere(uint32_t linear, int prot) {
    report(WindowChange::Kind::Protect, linear & ~0xfffu, 4096, prot, 0, Ring3::Allowed);
  }
  // A fresh private page of all ones (0xff bytes) at window page `linear`, read-only or
  // writable: what the monitor's own translated code sees of unassigned guest-physical memory
  // while one instruction runs (monitor/src/unassigned_pages.h). The window sink is not told:
  // the direct-execution process never runs with it. unmap_page() removes it. False when the
  // host refuses it (its mapping limit, or a page below the first one the host lets us map).
  [[nodiscard]] bool map_all_ones(uint32_t linear, bool writable);

  // Why a guest-physical page may not be mapped writable (or must be executable) in the
  // window: it runs directly (DirectCode), translations were made from it (CodeTraces), or
  // the shadow holds mappings made from its entries (a guest page table, Shadow).
  enum PageFlag : uint8_t { kDirect = 1, kTraced = 2, kTable = 4 };
  static constexpr uint8_t kReadOnlyFlags = kDirect | kTraced | kTable;
  uint8_t page_flags(uint32_t phys) const {
    uint32_t p = phys >> 12;
    return p < flags_.size() ? flags_[p] : 0;
  }
  void set_page_flag(uint32_t phys, PageFlag f, bool on);
  // With paging off: re-protects the identity mapping of the page from its flags.
  void apply_identity_prot(uint32_t phys);
  bool identity_mapped() const { return identity_; }
  bool page0_mapped() const { return page0_mapped_; }

  // Host calls that changed the window's mappings (what costs 12-25 us each where the host's
  // own page tables are shadowed by its hypervisor, docs/PERFORMANCE.md).
  struct HostCalls {
    uint64_t maps = 0;      // mmap of a page or of all of RAM
    uint64_t unmaps = 0;    // a page or the whole window replaced by the empty reservation
    uint64_t protects = 0;  // mprotect, of a page or a span
    std::string report() const;
  };
  const HostCalls& host_calls() const { return calls_; }

 private:
  uint64_t ram_size_;
  int memfd_ = -1;
  uint8_t* physmap_ = nullptr;
  bool window_reserved_ = false;
  uint64_t window_start_ = 0;  // 0, or the first page the host lets us map
  bool identity_ = false;
  bool page0_mapped_ = false;
  std::vector<uint8_t> flags_;
  MmioHandler* mmio_ = nullptr;
  WindowSink* sink_ = nullptr;
  HostCalls calls_;
  void report(WindowChange::Kind k, uint64_t addr, uint64_t len, int prot = 0,
              uint64_t ram_offset = 0, Ring3 ring3 = Ring3::Denied) {
    if (sink_) sink_->window_changed({k, prot, addr, len, ram_offset, ring3});
  }
};

}  // namespace shadowmmu
