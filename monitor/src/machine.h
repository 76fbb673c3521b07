// One virtual machine: guest RAM and the window, the vCPU and its semantics, the port bus with
// its devices, and the execution engine; plus the run loop that handles every exit.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "bt/engine.h"
#include "cpu/cpu.h"
#include "shadowmmu/address_space.h"
#include "shadowmmu/guest_memory.h"

namespace monitor {

struct Config {
  std::string kernel;
  std::string append;
  uint64_t mem_bytes = 128ull << 20;
  bool stats = false;
};

// Process exit statuses besides the guest's own (debug-exit: (value << 1) | 1, always odd).
inline constexpr int kExitUsage = 2;       // bad options, unreadable or invalid kernel
inline constexpr int kExitVmStopped = 4;   // unsupported operation, triple fault, dead halt
inline constexpr int kExitInterrupted = 130;

class Machine {
 public:
  explicit Machine(const Config& cfg);
  ~Machine();
  // Loads the kernel and runs the guest to the end; returns the process exit status.
  int run();

  struct Devices;  // defined in devices_wiring.cpp

 private:
  int loop();
  int stop(const std::string& reason);  // prints the state report, returns kExitVmStopped
  void print_stats() const;

  Config cfg_;
  shadowmmu::AddressSpace as_;
  cpu::Vcpu vcpu_;
  shadowmmu::GuestMemory mem_;
  std::unique_ptr<Devices> dev_;
  std::unique_ptr<cpu::Ports> ports_;
  std::unique_ptr<cpu::Hooks> hooks_;
  std::unique_ptr<cpu::Cpu> cpu_;
  std::unique_ptr<bt::CodeSource> code_;
  std::unique_ptr<bt::Engine> engine_;
  std::optional<int> exit_status_;  // set by the debug-exit device
};

// Prints the vCPU state (reason, EIP with bytes and disassembly, registers, segments).
void print_state_report(const std::string& reason, const cpu::Vcpu& v,
                        const shadowmmu::AddressSpace& as);

}  // namespace monitor
