// Which guest pages may run directly on the host CPU (DESIGN §4.2).
//
// The guest window is mapped without host execute permission, so the first time directly
// executed guest code fetches from a page, it faults and the page is scanned. A page with no
// `cpuid` byte pattern (0F A2, also across its edges) is made executable and read-only; a page
// that has one keeps running through the translator, because `cpuid` does not trap at CPL 3 on
// hosts without CPUID faulting and must return bt86's virtual CPU model. A write to an
// executable page makes it writable and unscanned again; a page that flips too often stays
// with the translator. So does a page with a byte pattern of wrpkru or xrstor (which would let
// guest code set the host's protection-key rights) or of syscall or sysenter (which enter the
// host kernel on some CPUs, and it loses the return address): SECURITY.md. And so does a page
// with a byte pattern of lar, lsl, verr or verw, which at CPL 3 would answer from the host's
// descriptor tables instead of the guest's. Paging is off in every
// guest that reaches here (the shadow MMU issue extends this to shadow page-table entries).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shadowmmu/address_space.h"

namespace shadowmmu {

class DirectCode {
 public:
  enum class State : uint8_t { Unscanned, Direct, Translate };

  struct Stats {
    uint64_t scans = 0;
    uint64_t cleared = 0;               // pages made executable
    uint64_t cpuid_pages = 0;           // pages left to the translator because of a cpuid pattern
    uint64_t host_state_pages = 0;      // left to the translator: wrpkru/xrstor/syscall/sysenter
    uint64_t selector_query_pages = 0;  // left to the translator: lar/lsl/verr/verw
    uint64_t reverts = 0;               // executable pages written
    uint64_t flip_limited = 0;          // pages left to the translator after too many reverts
    uint64_t self_writers = 0;  // pages left to the translator because their code writes them
    std::string report() const;
  };

  // `cpuid_traps`: the host makes cpuid fault at CPL 3, so the scan need not look for it.
  DirectCode(AddressSpace& as, bool cpuid_traps);

  State state(uint32_t linear) const;
  // A directly executed fetch faulted in `linear`'s page: scan it and return its new state.
  State on_fetch(uint32_t linear);
  // A write faulted on an executable page; `writer` is the linear EIP of the instruction. The
  // page becomes writable, and unscanned, or left to the translator when the code writes its
  // own page (it would fault on every write). Returns false if the page was not executable
  // (so the fault is something else).
  bool on_write(uint32_t linear, uint32_t writer);
  // The monitor wrote guest memory through the physmap: pages it touched lose execution.
  void note_write(uint32_t linear, unsigned len);
  const Stats& stats() const { return stats_; }

 private:
  static constexpr unsigned kMaxReverts = 8;
  struct Window {
    const uint8_t* bytes;
    size_t size;
  };
  Window window(uint32_t page) const;
  bool has_cpuid(uint32_t page) const;
  bool has_host_state_insn(uint32_t page) const;
  bool has_selector_query(uint32_t page) const;
  void protect(uint32_t page, bool direct);

  AddressSpace& as_;
  bool cpuid_traps_;
  std::vector<State> state_;
  std::vector<uint8_t> reverts_;
  Stats stats_;
};

}  // namespace shadowmmu
