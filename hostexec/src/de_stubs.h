// The confined processes direct execution runs in (issue 12, item 3): one per recently used
// guest address space, up to kMax, so that going back to a space finds its process's window as
// it was left — no host mapping call where nothing changed. Each process has its own LDT
// aliases and the monitor's model of its window (shadowmmu::WindowModel); past kMax spaces the
// least recently used process is taken over by the new one, and its window then gets the
// difference (de_windows.h).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "de_segments.h"
#include "hostexec/de_process.h"
#include "shadowmmu/window_model.h"

namespace hostexec::de {

struct DeStub {
  DeStub(int ram_fd, bool approve_maps, const uint16_t* pending);
  DeProcess process;
  HostSegments segs{process};
  shadowmmu::WindowModel model;
  uint32_t space;      // the guest address space it holds (page directory address), or below
  uint64_t last_used;  // when it was last chosen
};

class DeStubs {
 public:
  static constexpr size_t kMax = 8;
  static constexpr uint32_t kNoPaging = 1;  // guest paging off (no directory is at 1)
  static constexpr uint32_t kNoSpace = 3;   // not chosen for any space yet

  // Starts the first process (for guest paging off).
  DeStubs(int ram_fd, bool approve_maps, const uint16_t* pending);

  DeStub& current() { return *current_; }
  // The process for `space` becomes the current one: the one that has it, else a new one while
  // fewer than kMax run, else the least recently used (its window is another space's: the
  // caller sends the difference).
  DeStub& choose(uint32_t space);
  // The current process now holds `space` (the window changes that made it so went to it).
  void relabel(uint32_t space);

  size_t started() const { return stubs_.size(); }
  uint64_t taken_over() const { return taken_over_; }
  uint64_t ldt_writes() const;

 private:
  void label(DeStub& s, uint32_t space);

  int ram_fd_;
  bool approve_maps_;
  const uint16_t* pending_;
  std::vector<std::unique_ptr<DeStub>> stubs_;
  DeStub* current_ = nullptr;
  uint64_t clock_ = 0, taken_over_ = 0;
};

}  // namespace hostexec::de
