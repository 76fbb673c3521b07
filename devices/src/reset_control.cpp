#include "devices/reset_control.h"

#include <utility>

namespace devices {

ResetControl::ResetControl(std::function<void()> on_reset) : on_reset_(std::move(on_reset)) {}

uint32_t ResetControl::in(uint16_t port, unsigned size) {
  if (port == kPort && size == 1) return value_;
  return 0xffffffffu;
}

void ResetControl::out(uint16_t port, unsigned size, uint32_t value) {
  if (port != kPort || size != 1) return;
  // As QEMU's PIIX: the reset happens on the write; only SRST is remembered.
  if (value & kResetCpu) {
    if (on_reset_) on_reset_();
    return;
  }
  value_ = uint8_t(value & kSysReset);
}

}  // namespace devices
