#include "devices/acpi_pm_timer.h"

namespace devices {

AcpiPmTimer::AcpiPmTimer(Clock& clock) : clock_(clock), start_ns_(clock.now_ns()) {}

uint64_t AcpiPmTimer::ticks() {
  const uint64_t ns = clock_.now_ns() - start_ns_;
  return uint64_t((unsigned __int128)ns * kFrequencyHz / 1'000'000'000u);
}

uint32_t AcpiPmTimer::in(uint16_t port, unsigned size) {
  const uint32_t value = uint32_t(ticks() & ((1u << kBits) - 1));
  const unsigned shift = 8 * (port - kPort);
  const uint32_t v = shift < 32 ? value >> shift : 0;
  return size >= 4 ? v : v & ((1u << (8 * size)) - 1);
}

}  // namespace devices
