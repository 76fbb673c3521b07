// The PC devices of a VM and how they attach to the port bus and the vCPU.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "cpu/cpu.h"
#include "devices/debug_exit.h"
#include "devices/io_bus.h"
#include "devices/post_port.h"
#include "devices/uart16550.h"
#include "machine.h"

namespace monitor {
// Guest serial output goes to stdout, flushed per line so an interactive user sees it.
class StdoutSink final : public devices::CharSink {
 public:
  void put(uint8_t byte) override;
};

// Interrupt requests have nowhere to go until the 8259 pair is wired to the vCPU; devices
// used so far (a polled UART) do not need them. Levels are kept for the report.
class UnwiredIrqs final : public devices::IrqLine {
 public:
  void set_level(unsigned irq, bool level) override {
    if (irq < 16) levels[irq] = level;
  }
  bool levels[16] = {};
};

class BusPorts final : public cpu::Ports {
 public:
  explicit BusPorts(devices::IoBus& bus) : bus_(bus) {}
  uint32_t in(uint16_t port, unsigned size) override { return bus_.in(port, size); }
  void out(uint16_t port, unsigned size, uint32_t value) override { bus_.out(port, size, value); }

 private:
  devices::IoBus& bus_;
};

struct Machine::Devices {
  explicit Devices(std::function<void(int)> on_exit)
      : uart(sink, irqs), debug_exit([f = std::move(on_exit)](uint32_t s) { f(int(s & 0xff)); }) {
    bus.attach(devices::Uart16550::kCom1Base, devices::Uart16550::kPortCount, uart);
    bus.attach(devices::DebugExit::kBase, devices::DebugExit::kPortCount, debug_exit);
    bus.attach(devices::PostPort::kPort, 1, post);
  }
  StdoutSink sink;
  UnwiredIrqs irqs;
  devices::IoBus bus;
  devices::Uart16550 uart;
  devices::DebugExit debug_exit;
  devices::PostPort post;
};


std::unique_ptr<Machine::Devices> make_devices(uint64_t ram_bytes,
                                               std::function<void(int status)> on_exit);
std::unique_ptr<cpu::Ports> make_port_bus(Machine::Devices& d);
std::string devices_report(const Machine::Devices& d);

}  // namespace monitor
