// The A20 line, driven by both the keyboard controller's output port and port 0x92. As on QEMU,
// the last write from either source decides; both read back the line itself.
#pragma once

#include <functional>
#include <utility>

namespace devices {

class A20Gate {
 public:
  struct State {
    bool enabled;
  };

  // Starts enabled, as a BIOS leaves it and as a kernel loaded above 1 MiB expects.
  bool enabled() const { return enabled_; }
  void set(bool enabled) {
    if (enabled == enabled_) return;
    enabled_ = enabled;
    if (on_change_) on_change_(enabled);
  }
  // Called with the new state whenever it changes (the monitor remaps the wrapped megabyte).
  void set_callback(std::function<void(bool)> callback) { on_change_ = std::move(callback); }

  State state() const { return {enabled_}; }

 private:
  bool enabled_ = true;
  std::function<void(bool)> on_change_;
};

}  // namespace devices
