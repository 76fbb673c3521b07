// The PC devices of a VM and how they attach to the port bus and the vCPU.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "cpu/cpu.h"
#include "devices/devices.h"
#include "machine.h"

namespace monitor {
// Guest serial output goes to stdout, flushed per line so an interactive user sees it.
class StdoutSink final : public devices::CharSink {
 public:
  void put(uint8_t byte) override;
};

// The CPU's port I/O onto the bus. After a write to the PIT it calls `timer_written`, because
// the host timer must follow a reprogrammed channel 0 even if the guest never leaves
// translated code for another reason.
class BusPorts final : public cpu::Ports {
 public:
  // timer_written: after a write to the PIT; pic_read: before a read of the master PIC's
  // command port (IRR, ISR).
  BusPorts(devices::IoBus& bus, std::function<void()> timer_written, std::function<void()> pic_read)
      : bus_(bus), timer_written_(std::move(timer_written)), pic_read_(std::move(pic_read)) {}
  uint32_t in(uint16_t port, unsigned size) override;
  void out(uint16_t port, unsigned size, uint32_t value) override;

 private:
  devices::IoBus& bus_;
  std::function<void()> timer_written_;
  std::function<void()> pic_read_;
};

// How the devices reach the rest of the machine. Each runs in the middle of a port access, so
// it may only record what happened (the run loop acts on it).
struct DeviceEvents {
  std::function<void(int status)> exit;        // isa-debug-exit, with the process exit status
  std::function<void(const char* by)> reset;   // i8042 pulse, port 0x92 bit 0, or 0xCF9 RCPU
  std::function<void(bool level)> intr;        // the PIC's INTR output changed
  std::function<void(uint8_t slp_typ)> sleep;  // ACPI: SLP_EN written to PM1a_CNT
};

struct Machine::Devices {
  Devices(uint64_t ram_bytes, DeviceEvents events);

  // Declaration order is construction order: sources and sinks before the devices using them.
  StdoutSink sink;
  devices::HostClock clock;
  devices::HostWallClock wall_clock;
  devices::A20Gate a20;
  devices::IoBus bus;
  devices::MmioBus mmio;
  devices::Pic8259 pic;
  devices::Pit8254 pit;
  devices::SystemPortB port_b;
  devices::CmosRtc cmos;
  devices::I8042 i8042;
  devices::SystemPortA port_a;
  devices::ResetControl reset_control;
  devices::Uart16550 uart;
  devices::DebugExit debug_exit;
  devices::PostPort post;
  devices::AcpiPmTimer pm_timer;
  devices::AcpiPm acpi_pm;
  devices::FerrLatch ferr;
};

std::unique_ptr<Machine::Devices> make_devices(uint64_t ram_bytes, DeviceEvents events);
std::unique_ptr<cpu::Ports> make_port_bus(Machine::Devices& d, std::function<void()> timer_written,
                                          std::function<void()> pic_read);
std::string devices_report(const Machine::Devices& d);
// The MMIO bus as guest-physical memory outside RAM sees it. With `strict`, an access to
// unassigned memory stops the VM (cpu::Unsupported) instead of reading all ones.
std::unique_ptr<shadowmmu::MmioHandler> make_mmio_handler(Machine::Devices& d, bool strict);

}  // namespace monitor
