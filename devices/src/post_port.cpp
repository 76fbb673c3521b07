#include "devices/post_port.h"

namespace devices {

uint32_t PostPort::in(uint16_t, unsigned) {
  return s_.last;
}

void PostPort::out(uint16_t, unsigned, uint32_t value) {
  s_.last = uint8_t(value);
  ++s_.writes;
}

}  // namespace devices
