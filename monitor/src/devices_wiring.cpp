#include "devices_wiring.h"

#include <fmt/format.h>

#include <cstdio>

namespace monitor {

void StdoutSink::put(uint8_t byte) {
  std::fputc(byte, stdout);
  if (byte == '\n') std::fflush(stdout);
}

// A20 stays enabled in effect: guest RAM is mapped once, so the megabyte wrap a disabled A20
// line causes is not modelled (kernels loaded at 1 MiB never turn it off).
Machine::Devices::Devices(uint64_t ram_bytes, DeviceEvents events)
    : pit(clock, pic),
      port_b(pit),
      cmos(wall_clock, ram_bytes),
      i8042(pic, a20, [f = events.reset] { f("i8042 command 0xfe"); }),
      port_a(a20, [f = events.reset] { f("port 0x92 bit 0"); }),
      reset_control([f = events.reset] { f("port 0xcf9"); }),
      uart(sink, pic),
      debug_exit([f = std::move(events.exit)](uint32_t s) { f(int(s & 0xff)); }),
      pm_timer(clock),
      acpi_pm(std::move(events.sleep), &pm_timer,
              [](const char* what) { throw cpu::Unsupported{what}; }),
      ferr(pic) {
  pic.set_intr_callback(std::move(events.intr));
  pic.attach_to(bus);
  bus.attach(devices::Pit8254::kBase, devices::Pit8254::kPortCount, pit);
  i8042.attach_to(bus);
  bus.attach(devices::SystemPortB::kPort, 1, port_b);
  bus.attach(devices::CmosRtc::kBase, devices::CmosRtc::kPortCount, cmos);
  bus.attach(devices::PostPort::kPort, 1, post);
  bus.attach(devices::SystemPortA::kPort, 1, port_a);
  bus.attach(devices::ResetControl::kBase, devices::ResetControl::kPortCount, reset_control);
  bus.attach(devices::DebugExit::kBase, devices::DebugExit::kPortCount, debug_exit);
  bus.attach(devices::Uart16550::kCom1Base, devices::Uart16550::kPortCount, uart);
  bus.attach(devices::AcpiPm::kPm1aEvtBase, devices::AcpiPm::kPortCount, acpi_pm);
  bus.attach(devices::AcpiPmTimer::kPort, devices::AcpiPmTimer::kLen, pm_timer);
  bus.attach(devices::FerrLatch::kPort, 1, ferr);
}

std::unique_ptr<Machine::Devices> make_devices(uint64_t ram_bytes, DeviceEvents events) {
  return std::make_unique<Machine::Devices>(ram_bytes, std::move(events));
}

void BusPorts::out(uint16_t port, unsigned size, uint32_t value) {
  bus_.out(port, size, value);
  constexpr unsigned kPitFirst = devices::Pit8254::kBase,
                     kPitEnd = kPitFirst + devices::Pit8254::kPortCount;
  if (port < kPitEnd && port + size > kPitFirst && timer_written_) timer_written_();
}

uint32_t BusPorts::in(uint16_t port, unsigned size) {
  if (port == devices::Pic8259::kMasterBase && pic_read_) pic_read_();
  return bus_.in(port, size);
}

std::unique_ptr<cpu::Ports> make_port_bus(Machine::Devices& d, std::function<void()> timer_written,
                                          std::function<void()> pic_read) {
  return std::make_unique<BusPorts>(d.bus, std::move(timer_written), std::move(pic_read));
}

std::string devices_report(const Machine::Devices& d) {
  return "port I/O\n" + d.bus.format_stats() + "memory-mapped I/O\n" + d.mmio.format_stats();
}

namespace {
class BusMmio final : public shadowmmu::MmioHandler {
 public:
  explicit BusMmio(devices::MmioBus& bus) : bus_(bus) {}
  uint64_t read(uint32_t pa, unsigned width) override { return bus_.read(pa, width); }
  void write(uint32_t pa, unsigned width, uint64_t value) override { bus_.write(pa, width, value); }

 private:
  devices::MmioBus& bus_;
};
}  // namespace

std::unique_ptr<shadowmmu::MmioHandler> make_mmio_handler(Machine::Devices& d, bool strict) {
  if (strict)
    d.mmio.unassigned().on_access = [](bool write, uint64_t pa, unsigned width) {
      throw cpu::Unsupported{fmt::format(
          "--strict-memory: guest {} of {} byte(s) at physical {:#010x}, where there is "
          "neither RAM nor a device",
          write ? "write" : "read", width, pa)};
    };
  return std::make_unique<BusMmio>(d.mmio);
}

}  // namespace monitor
