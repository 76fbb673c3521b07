#include "devices/system_port_b.h"

namespace devices {

uint32_t SystemPortB::in(uint16_t, unsigned) {
  const bool refresh = (pit_.clock().now_ns() / kRefreshPeriodNs) & 1;
  return s_.control | (refresh ? 0x10 : 0) | (pit_.output(2) ? 0x20 : 0);
}

void SystemPortB::out(uint16_t, unsigned, uint32_t value) {
  s_.control = uint8_t(value & 0x0f);
  pit_.set_gate(2, value & 1);
}

}  // namespace devices
