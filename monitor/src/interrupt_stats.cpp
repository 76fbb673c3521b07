#include "interrupt_stats.h"

#include <fmt/format.h>

namespace monitor {

void InterruptStats::record(uint8_t vector, std::optional<unsigned> irq) {
  ++delivered;
  ++by_vector[vector];
  if (irq) ++by_irq[*irq];
}

std::string InterruptStats::report(uint64_t timer_signals) const {
  std::string s = "interrupts\n";
  s += fmt::format("  delivered                 {}\n", delivered);
  for (unsigned irq = 0; irq < by_irq.size(); ++irq)
    if (by_irq[irq]) s += fmt::format("    IRQ {:<2}                  {}\n", irq, by_irq[irq]);
  for (unsigned v = 0; v < by_vector.size(); ++v)
    if (by_vector[v]) s += fmt::format("    vector {:#04x}             {}\n", v, by_vector[v]);
  if (shadow_deferrals) s += fmt::format("  held back by a shadow     {}\n", shadow_deferrals);
  s += fmt::format("  timer signals             {}\n", timer_signals);
  s += fmt::format("  IRQ 0 periods late        {} ({} merged)\n", timer_delayed, timer_merged);
  s += fmt::format("  hlt                       {} ({} host sleeps, {:.3f} s asleep)\n", halts,
                   sleeps, double(slept_ns) / 1e9);
  return s;
}

std::optional<unsigned> irq_for_vector(const devices::Pic8259::State& pic, uint8_t vector) {
  const uint8_t base = vector & 0xf8;
  const unsigned input = vector & 7;
  // The master's input 2 is the cascade: its vectors come from the slave, never base + 2.
  if (base == pic.master.vector_base && input != 2) return input;
  if (base == pic.slave.vector_base) return 8 + input;
  return std::nullopt;
}

}  // namespace monitor
