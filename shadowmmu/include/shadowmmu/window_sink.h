// Every change the monitor makes to the guest window's host mappings, reported as it happens
// (issue 12, item 3): the confined direct-execution process keeps a copy of the window, which
// must follow each change before guest code runs there again (window_queue.h).
#pragma once

#include <cstdint>

namespace shadowmmu {

// One change of window pages [addr, addr + len), page-aligned, inside [0, 4 GiB).
struct WindowChange {
  enum class Kind : uint8_t {
    Map,      // guest RAM [ram_offset, ram_offset + len) at addr, with prot (PROT_* bits)
    Protect,  // new prot for pages that are mapped
    Unmap,    // nothing there any more
  };
  Kind kind;
  int prot = 0;  // Map, Protect
  uint64_t addr = 0;
  uint64_t len = 0;
  uint64_t ram_offset = 0;  // Map
  uint64_t end() const { return addr + len; }
  bool operator==(const WindowChange&) const = default;
};

class WindowSink {
 public:
  // Called after the monitor's own window has changed (never for a change the host refused).
  virtual void window_changed(const WindowChange& c) = 0;

 protected:
  ~WindowSink() = default;
};

}  // namespace shadowmmu
