// Every change the monitor makes to the guest window's host mappings, reported as it happens
// (issue 12, item 3): the confined direct-execution process keeps a copy of the window, which
// must follow each change before guest code runs there again (window_queue.h).
#pragma once

#include <cstdint>

namespace shadowmmu {

// Whether guest ring 3 may use a window page with the rights it is mapped with (its guest
// entries give user access, and user writes if it is mapped writable; every page with paging
// off). The shadow knows it from the walk that filled the page. Only such pages may reach the
// confined direct-execution process's window (ring3_window.h).
enum class Ring3 : uint8_t { Denied, Allowed };

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
  // Map, Protect: of a page ring 3 may use as mapped. Denied unless said otherwise, so that a
  // change nobody classified never reaches the confined process.
  Ring3 ring3 = Ring3::Denied;
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
