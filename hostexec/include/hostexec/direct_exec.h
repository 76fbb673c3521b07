// Direct execution of guest user code (DESIGN §4.2): guest code at CPL 3 with virtual IF = 1
// runs on the host CPU in 32-bit compatibility mode, in the confined direct-execution process
// (DeProcess: nothing of the monitor is mapped there, and its seccomp filter kills it on any
// host system call), and every way it can need the monitor (a system call, an exception, a
// privileged instruction, a timer tick) comes back as an exit record that is turned into a
// guest event here.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "cpu/cpu.h"

namespace shadowmmu {
class AddressSpace;
class Shadow;
}  // namespace shadowmmu

namespace hostexec {

// Why direct execution returned; counted in DeStats::exits.
enum class DeReason : uint8_t {
  Syscall,        // int 0x80 (or another 32-bit system call path) trapped by seccomp
  SoftInt,        // int n whose host gate is privileged (#GP with an IDT error code)
  Breakpoint,     // int3 / int 3
  Overflow,       // into / int 4
  Debug,          // #DB (int1, single step)
  Divide,         // #DE
  InvalidOpcode,  // #UD
  Protection,     // #GP delivered to the guest (null or limit-violating segment access)
  Sensitive,      // #GP from a privileged or sensitive instruction: the translator runs it
  StackFault,     // #SS
  FpuError,       // #MF / #XM
  Bound,          // #BR
  Alignment,      // the host's #AC: the guest's #AC, or the translator when its CR0.AM is clear
  SegmentFixup,   // guest code loaded a selector the host accepted silently (CS, SS, DS..GS)
  CodeFetch,      // fetch from a page not yet cleared for direct execution
  CodeWrite,      // write to a page cleared for direct execution
  MemoryFault,    // access where the guest has no memory
  Async,          // timer tick, Ctrl-C, device event
  Escape,         // guest code ran as host code, or the process died or lied: the VM stops
  Other,
  kCount
};
const char* de_reason_name(DeReason r);

struct DeStats {
  uint64_t entries = 0;
  uint64_t exits[size_t(DeReason::kCount)] = {};
  uint64_t ns_in_guest = 0;           // wall time between entry and exit, signal handling included
  uint64_t ldt_writes = 0;            // modify_ldt calls for segment aliases
  uint64_t processes = 0;             // confined processes started (one per recent address space)
  uint64_t processes_taken_over = 0;  // ... given to another address space (the oldest)
  uint64_t process_switches = 0;      // entries after a CR3 write (perhaps to the same one)
  uint64_t window_changes = 0;        // window changes mirrored into the direct-execution process
  uint64_t window_sent = 0;           // of those, sent (not superseded by a later change)
  uint64_t window_commands = 0;       // WINDOW commands that carried them
  uint64_t window_diffs = 0;          // changes sent at process switches (what differed)
  uint64_t window_full = 0;           // windows dropped at a process's host mapping limit
  // Changes of pages ring 3 may not use, kept from the process (shadowmmu::Ring3Window).
  uint64_t window_maps_withheld = 0;     // maps, sent as unmaps
  uint64_t window_protects_dropped = 0;  // protections (parking, give-back), not sent
  std::string report() const;
};

class DirectExec {
 public:
  struct Exit {
    enum class Kind : uint8_t {
      Continue,     // handled: an emulated instruction or a delivered guest event
      Event,        // an asynchronous host signal; the pending-event word says what
      Translate,    // the instruction at EIP needs the translator
      CodeFetch,    // address: the page to scan before code on it may run directly
      CodeWrite,    // address: a write hit a page cleared for direct execution
      MemoryFault,  // address/write: no guest memory there
      Unsupported,  // what
      Escape,       // what: guest code ran as host code in the direct-execution process (it
                    // came back in 64-bit mode, died, or answered what it cannot): stop the VM
    } kind = Kind::Continue;
    uint32_t address = 0;
    bool write = false;
    std::string what;
  };

  // One per process: starts the direct-execution process, mirrors `as`'s window into it from
  // now on (the window is mapped again from scratch: guest paging must be off), and kicks it
  // on the monitor's asynchronous signals. Throws std::runtime_error when the host cannot do
  // direct execution.
  // `approve_maps`: see DeProcess (--de-approve-maps).
  DirectExec(cpu::Cpu& cpu, shadowmmu::AddressSpace& as, bool approve_maps = false);
  ~DirectExec();
  DirectExec(const DirectExec&) = delete;
  DirectExec& operator=(const DirectExec&) = delete;

  // Whether the current vCPU state can run directly; otherwise `why` names the reason.
  bool eligible(const char** why = nullptr) const;
  // Runs guest code from the vCPU state until it traps; precondition: eligible().
  Exit run();
  // How to drop the whole window under guest paging (the shadow's reset), used when more
  // window changes piled up than are worth sending one by one.
  void set_window_resync(std::function<void()> drop_window);
  // Under guest paging, one process per recently used address space, each given what `shadow`
  // says it should hold when it runs after a CR3 write (the shadow must keep user pages for
  // them: Shadow::set_process_per_space). Without it (tests), one process follows every change.
  void set_shadow(const shadowmmu::Shadow* shadow);
  const DeStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hostexec
