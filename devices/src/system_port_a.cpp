#include "devices/system_port_a.h"

#include <utility>

namespace devices {

SystemPortA::SystemPortA(A20Gate& a20, std::function<void()> on_reset)
    : a20_(a20), on_reset_(std::move(on_reset)) {}

uint32_t SystemPortA::in(uint16_t, unsigned) {
  return (s_.value & ~0x02u) | (a20_.enabled() ? 0x02u : 0u);
}

void SystemPortA::out(uint16_t, unsigned, uint32_t value) {
  const uint8_t before = s_.value;
  s_.value = uint8_t(value);
  a20_.set(value & 0x02);
  if ((value & 0x01) && !(before & 0x01) && on_reset_) on_reset_();
}

}  // namespace devices
