// The confined direct-execution process's window holds only what guest ring 3 may use (issue
// 12, item 3): a sink between the monitor's window (AddressSpace) and the process's queue that
// passes maps and protections of pages ring 3 may use as mapped, turns the map of any other
// page (supervisor-only, or writable only for ring 0 under CR0.WP = 0) into an unmap, and
// drops protections of such pages (the shadow's parking of supervisor pages while ring 3 runs,
// and their give-back, exist only for the monitor's own window). So the process never holds a
// page ring 3 may not use: code that escaped there has nothing to unpark.
#pragma once

#include <cstdint>

#include "shadowmmu/window_sink.h"

namespace shadowmmu {

// What the process's window does for `c`: `c` itself, an unmap of its pages, or nothing.
enum class Ring3View : uint8_t { Keep, Unmap, Drop };
Ring3View ring3_view(const WindowChange& c);

class Ring3Window final : public WindowSink {
 public:
  explicit Ring3Window(WindowSink& next) : next_(next) {}
  void window_changed(const WindowChange& c) override;
  uint64_t maps_withheld() const { return maps_withheld_; }        // sent as unmaps
  uint64_t protects_dropped() const { return protects_dropped_; }  // never sent

 private:
  WindowSink& next_;
  uint64_t maps_withheld_ = 0, protects_dropped_ = 0;
};

}  // namespace shadowmmu
