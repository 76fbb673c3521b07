#include "devices_wiring.h"

#include <cstdio>

namespace monitor {

void StdoutSink::put(uint8_t byte) {
  std::fputc(byte, stdout);
  if (byte == '\n') std::fflush(stdout);
}

std::unique_ptr<Machine::Devices> make_devices(uint64_t, std::function<void(int)> on_exit) {
  return std::make_unique<Machine::Devices>(std::move(on_exit));
}

std::unique_ptr<cpu::Ports> make_port_bus(Machine::Devices& d) {
  return std::make_unique<BusPorts>(d.bus);
}

std::string devices_report(const Machine::Devices& d) { return "port I/O\n" + d.bus.format_stats(); }

}  // namespace monitor
