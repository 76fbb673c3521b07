#include "devices/ferr_latch.h"

namespace devices {

void FerrLatch::set_ferr(bool asserted) {
  if (asserted && !s_.ferr) {
    s_.latched = true;
    ++s_.requests;
    irq_.raise(kIrq);
  }
  if (!asserted) s_.ignne = false;  // the chipset lets IGNNE# go with FERR#
  s_.ferr = asserted;
}

// Nothing to read: the port is write-only (an open bus).
uint32_t FerrLatch::in(uint16_t, unsigned) {
  return 0xff;
}

// Any value: clear the latch and the request; IGNNE# while FERR# is asserted.
void FerrLatch::out(uint16_t, unsigned, uint32_t) {
  s_.latched = false;
  irq_.lower(kIrq);
  s_.ignne = s_.ferr;
}

}  // namespace devices
