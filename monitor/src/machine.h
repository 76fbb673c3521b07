// One virtual machine: guest RAM and the window, the vCPU and its semantics, the port bus with
// its devices, and the execution engine; plus the run loop that handles every exit.
#pragma once

#include <signal.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "bt/engine.h"
#include "cpu/cpu.h"
#include "devices/pit8254.h"
#include "hostexec/direct_exec.h"
#include "mmio_access.h"
#include "shadowmmu/address_space.h"
#include "shadowmmu/code_traces.h"
#include "shadowmmu/direct_code.h"
#include "shadowmmu/guest_memory.h"
#include "shadowmmu/shadow.h"
#include "tc_tools.h"
#include "unassigned_pages.h"

namespace monitor {

struct Config {
  std::string kernel;
  std::string append;
  std::string initrd;  // --initrd
  uint64_t mem_bytes = 128ull << 20;
  bool stats = false;
  bool direct = true;           // run ring-3 code directly where the host allows it
  bool de_approve_maps = true;  // --[no-]de-approve-maps (hostexec::DeProcess)
  TcToolsConfig tools;
  bt::Options engine;  // --tc: cache size, unit cap, chaining
  const cpu::CpuModel* cpu_model = &cpu::default_cpu_model();  // --cpu
  bool strict_memory = false;  // an access where no RAM or device is stops the VM
  devices::Pit8254::LostTicks lost_ticks = devices::Pit8254::LostTicks::Delay;
};

// Process exit statuses besides the guest's own (debug-exit: (value << 1) | 1, always odd).
inline constexpr int kExitGuestReset = 0;     // the guest reset the machine (QEMU's -no-reboot)
inline constexpr int kExitPowerOff = 0;       // the guest powered the machine off (ACPI S5)
inline constexpr int kExitUsage = 2;          // bad options, unreadable or invalid kernel
inline constexpr int kExitVmStopped = 4;      // unsupported operation, triple fault, dead halt
inline constexpr int kExitInterrupted = 130;  // Ctrl-C / SIGTERM, or the console's Ctrl-A x

class ConsoleInput;
class EventService;
class VirtualTimer;
class UnitTools;

// What CPU hooks asked of the translation cache, done back in the loop.
struct TcRequests {
  bool flush = false;                  // everything goes
  bool unlink_all = false;             // every chain goes
  bool unlink_nonglobal = false;       // chains into pages not mapped global (CR3 write)
  std::vector<uint32_t> unlink_pages;  // chains into these linear pages (invlpg)
};

class X87Ferr;  // x87_ferr.h

class Machine {
 public:
  explicit Machine(const Config& cfg);
  ~Machine();
  // Loads the kernel and runs the guest to the end; returns the process exit status.
  int run();

  struct Devices;  // defined in devices_wiring.h

 private:
  int loop();
  // The pieces of loop() (machine.cpp): the cache work the last run asked for; one run of
  // translated code (its exit in x); and what that exit needs: a guest exception, a host
  // memory fault with paging off or on, or the other kinds. Each gives a status if the VM
  // must stop.
  void apply_tc_requests();
  std::optional<int> run_translated(bool single, bool ignne_step, bt::RunExit& x);
  std::optional<int> after_translated(const bt::RunExit& x);
  std::optional<int> guest_exception(const bt::RunExit& x);
  std::optional<int> translated_memory_fault(const bt::RunExit& x);
  bt::RunExit run_single();
  std::optional<uint64_t> watched_write(uint32_t linear, unsigned bytes);
  // The status to end with once the guest asked to exit or reset, or the user interrupted.
  std::optional<int> finished();
  // Services pending events (the timer, interrupt delivery); a status if the VM must stop.
  std::optional<int> take_events();
  // hlt: sleeps in the host until an interrupt is delivered; a status if the VM must stop.
  std::optional<int> halt();
  int stop(const std::string& reason);  // prints the state report, returns kExitVmStopped
  void print_stats() const;
  // --stats=json, --stats-interval (stats_json.cpp).
  std::string stats_json(const char* kind) const;
  uint64_t now_ns_since_start() const;
  void open_tc_tools();  // before the guest starts: a bad path throws OptionError
  void snapshot_stats();
  std::string time_split() const;
  // Direct execution of ring-3 code: set up if allowed and possible, else the reason why not.
  void setup_direct_execution();
  // Whether code at `eip` (current CS) runs directly now.
  bool runs_direct(uint32_t eip);
  // Before translated code runs: at CPL 3, the monitor's window must not show what ring 3 may
  // not use (Shadow::translated_user: lazy parking with direct execution).
  void translated_user();
  // The guest-physical address of `linear` for an access at the current CPL, if allowed.
  std::optional<uint32_t> guest_phys(uint32_t linear, bool write);
  std::optional<int> direct_paging_fault(const hostexec::DirectExec::Exit& x);
  // One stay in directly executed code and its exit; a status if the VM must stop.
  std::optional<int> run_direct();
  // A host fault at `linear` under guest paging: fill the shadow or raise the guest's #PF.
  std::optional<int> shadow_fault(uint32_t linear, bool write, bool from_translated);
  // A host fault at `linear` on a page the window cannot show (MMIO, mmio_access.h): the
  // instruction at EIP is redirected and runs translated next.
  std::optional<int> mmio_fault(uint32_t linear, bool write, bool from_translated);
  // A redirected instruction faulted there again: its form is not one the redirection takes.
  // Unassigned memory: it runs alone with all ones there (unassigned_pages.h); a device: stop.
  std::optional<int> unredirected_access(uint32_t linear, bool write);
  bt::WatchedAccess watched_access(uint32_t linear, unsigned bytes, unsigned access);

  Config cfg_;
  shadowmmu::AddressSpace as_;
  cpu::Vcpu vcpu_;
  shadowmmu::GuestMemory mem_;
  shadowmmu::DirectCode direct_code_;
  shadowmmu::Shadow shadow_;
  shadowmmu::CodeTraces traces_;
  MmioAccesses mmio_;
  std::unique_ptr<shadowmmu::MmioHandler> mmio_bus_;  // the devices' MMIO bus, for as_
  UnassignedPages unassigned_{as_};
  bool unassigned_step_ = false;  // run one instruction with unassigned_'s pages mapped
  bool single_next_ = false;      // run one instruction untraced (it writes translated code)
  bool shadow_step_ = false;      // run the one instruction an sti / mov ss shadow holds an IRQ for
  // Run one instruction with the traced page table at this window page writable (it writes it).
  std::optional<uint32_t> table_write_;
  // Guest-physical addresses of translated instructions that wrote traced page tables: they
  // are translated between write-watch callouts from then on (no host fault per write).
  std::unordered_set<uint32_t> table_writers_;
  TcRequests tc_;
  std::unique_ptr<Devices> dev_;
  std::unique_ptr<X87Ferr> x87_ferr_;  // FERR#/IGNNE# (x87_ferr.h)
  std::unique_ptr<cpu::Ports> ports_;
  std::unique_ptr<cpu::Hooks> hooks_;
  std::unique_ptr<cpu::Cpu> cpu_;
  std::unique_ptr<bt::CodeSource> code_;
  std::unique_ptr<bt::Engine> engine_;
  std::unique_ptr<hostexec::DirectExec> de_;
  std::string direct_off_reason_;
  bool translate_next_ = false;    // direct execution asked the translator for one instruction
  uint64_t bt_ns_ = 0;             // time in engine_->run()
  uint64_t wall_ns_ = 0;           // time in loop()
  uint64_t start_ns_ = 0;          // when loop() started
  uint64_t next_snapshot_ns_ = 0;  // --stats-interval: when the next snapshot is due (0: never)
  std::unique_ptr<UnitTools> unit_tools_;
  std::FILE* stats_out_ = nullptr;  // --stats-file, else stderr
  std::unique_ptr<VirtualTimer> timer_;
  std::unique_ptr<EventService> events_;
  std::unique_ptr<ConsoleInput> console_;  // stdin as COM1's input, while the guest runs
  sigset_t wake_signals_{};                // the signals whose handlers end a hlt sleep
  std::optional<int> exit_status_;         // set by the debug-exit device
  const char* reset_requested_ = nullptr;  // by which device: the i8042, port 0x92 or 0xcf9
};

// Prints the vCPU state (reason, EIP with bytes and disassembly, registers, segments).
void print_state_report(const std::string& reason, const cpu::Vcpu& v,
                        const shadowmmu::AddressSpace& as);

}  // namespace monitor
