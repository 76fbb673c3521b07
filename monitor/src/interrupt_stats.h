// Counters for --stats: external interrupts delivered (by vector and by IRQ line), host timer
// signals, and how the guest's hlt instructions were spent.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "devices/pic8259.h"

namespace monitor {

struct InterruptStats {
  std::array<uint64_t, 256> by_vector{};
  std::array<uint64_t, 16> by_irq{};
  uint64_t delivered = 0;
  uint64_t shadow_deferrals = 0;  // held back one instruction by the sti / mov ss shadow
  uint64_t timer_delayed = 0;     // IRQ 0 periods delivered late, one by one (Pit8254::Lag)
  uint64_t timer_merged = 0;      // IRQ 0 periods merged because the lag passed kMaxLagNs
  uint64_t halts = 0;             // hlt exits with interrupts enabled or not
  uint64_t sleeps = 0;            // host sleeps while halted
  uint64_t slept_ns = 0;

  void record(uint8_t vector, std::optional<unsigned> irq);
  // The section printed after the device counters; timer_signals comes from VirtualTimer.
  std::string report(uint64_t timer_signals) const;
};

// The PIC input a vector the PIC just acknowledged came from, given its programmed vector bases.
std::optional<unsigned> irq_for_vector(const devices::Pic8259::State& pic, uint8_t vector);

}  // namespace monitor
