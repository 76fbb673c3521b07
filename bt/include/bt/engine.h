// The binary-translation engine: runs guest code at CPL 0-2 (and wherever direct execution is
// not allowed) as x86-64 code it translates into its own translation cache (DESIGN §4.1).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "bt/stats.h"
#include "bt/unit_record.h"
#include "cpu/cpu.h"

namespace bt {

// Where the engine reads guest code bytes. Returns a host pointer to the byte at `linear` and
// how many bytes are readable from there (to the end of its page), or nullptr if the address
// has no memory behind it. The bytes must be the guest's, not a shadow copy.
class CodeSource {
 public:
  virtual ~CodeSource() = default;
  virtual const uint8_t* code(uint32_t linear, uint32_t& avail) = 0;
  // Why `linear` cannot be fetched, when the guest must see it as an exception (a #PF under
  // guest paging); nullopt when there is simply no memory there.
  virtual std::optional<cpu::Fault> fetch_fault(uint32_t) { return std::nullopt; }
  // The guest-physical page number that `linear` fetches from now (part of a translation's
  // key, and what Engine::invalidate_frame names); 0 if the source keeps no pages apart.
  virtual uint32_t phys_page(uint32_t) { return 0; }
  // Whether the guest maps `linear` global (its translation survives CR3 writes); false where
  // unknown, which only costs chains.
  virtual bool global(uint32_t) { return false; }
};

// The room the cache keeps free for the next unit (a cache with less left is flushed before a
// translation); a unit stops growing once its host code passes half of it, so one always fits.
inline constexpr size_t kUnitReserve = 64 * 1024;

// Options::cache_bytes cannot hold the runtime stubs and one unit (kUnitReserve).
struct CacheTooSmall : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Options {
  // Translation cache size; a full cache is flushed. The Engine throws CacheTooSmall when it
  // cannot hold the runtime and kUnitReserve.
  size_t cache_bytes = 32u << 20;
  // What makes room in a full cache: flush every unit, or evict the oldest units (a block of
  // at least kUnitReserve bytes) and undo exactly the chains into them.
  // Generational (after Hazelwood & Smith, "Generational cache management of code traces in
  // dynamic optimization systems", MICRO-36, 2003): units are made in a nursery FIFO (half
  // the cache); a unit the nursery evicts that was entered at least `promote_after` times is
  // translated again into a persistent FIFO (the other half), where only the persistent
  // ring's own eviction ends it. Needs room for a unit in each half.
  enum class Evict { Flush, Fifo, Generational } evict = Evict::Flush;
  unsigned promote_after = 16;
  unsigned max_unit_instructions = 24;
  bool chaining = true;  // patch direct branches into jumps between translation units
  // Count entries into each unit (3 flag-free host instructions at every unit entry): the
  // hottest units and the guest instructions translated code executed (entry_counts()).
  bool count_entries = false;
  // Translate the exit of a loop (the fall-through of a backward conditional branch) together
  // with the loop, so that the first time the loop ends no translation runs. Code that times
  // a polling loop with rdtsc (Linux's quick PIT calibration) otherwise measures the
  // translator: its error bound is 1/2048 of a few milliseconds.
  bool translate_loop_exits = true;
  // Superblocks: a unit goes on at the target of a direct jmp or call (while it has room and
  // the target is on its first page or one second page) instead of ending at the jump.
  bool superblocks = false;
  // Entries in the jump cache that indirect branches probe (a power of two from
  // kMinJumpCache to kMaxJumpCache; the Engine throws std::invalid_argument otherwise). Sizes
  // other than 256 and 64K index it with BMI2 instructions (jump_cache_size_supported).
  uint32_t jump_cache_entries = 1u << 16;
  // Indirect jmp/call/ret: probe the shared jump cache (Table), or first compare with the
  // last target of that site, kept in a per-site inline cache (Inline), then the table.
  enum class IndirectBranch { Table, Inline } indirect = IndirectBranch::Table;
};
inline constexpr uint32_t kMinJumpCache = 2, kMaxJumpCache = 1u << 20;
// Whether this host can run a jump cache of `entries` (a power of two in range, and BMI2 for
// the sizes that need it).
bool jump_cache_size_supported(uint32_t entries);

// Why run() returned control to its caller.
struct RunExit {
  enum class Kind {
    Event,        // the pending-event word was set (interrupt line or an asynchronous request)
    Halt,         // hlt executed at CPL 0 (vcpu.eip is past it, vcpu.halted is set)
    Exception,    // the current instruction raised `fault` (vcpu.eip = the instruction)
    MemoryFault,  // guest access to a host address with nothing behind it (see `address`)
    Unsupported,  // an instruction or operation bt86 does not implement (see `what`)
    Stop,         // reached the stop address (set_stop_eip)
    Yield,        // the yield check asked for control at vcpu.eip (direct execution may go on)
  };
  Kind kind = Kind::Event;
  cpu::Fault fault{};
  bool software = false;    // Exception: int n / int3 / into (deliver with next_eip)
  uint32_t next_eip = 0;    // Exception: the EIP after the instruction
  uint32_t address = 0;     // MemoryFault: the host/guest address
  bool write = false;       // MemoryFault: a write access
  int host_trapno = -1;     // MemoryFault/Exception from a host signal: the host trap number
  uint32_t host_error = 0;  // ... and the host's error code for it
  std::string what;         // Unsupported: what, with the instruction's disassembly
};

// Guest accesses the caller wants to carry out itself (page-table traces, MMIO): an IDENT
// instruction whose access is exactly its memory operand (watched_write.cpp), and that `wraps`
// answers true for (by its linear EIP, at translation time), calls `begin` with the linear
// address and size of its operand and whether it reads and/or writes it, then accesses what
// `begin` decided in place of the operand — the window (as any access), a host address, or
// nothing: a fault, raised at the instruction — and calls `end` after it. Neither may run guest
// code. If the instruction faults, `end` is not called: the caller closes what `begin` opened
// when run() returns. An instruction `must` answers true for that is not such a form is not
// translated: it stops the VM ("unsupported MMIO access form", naming it).
struct WatchedAccess {
  enum class Kind { Window, Host, Fault } kind = Kind::Window;
  uint64_t host = 0;  // Host: where the operand's bytes are
  cpu::Fault fault{};
};
inline constexpr unsigned kWatchRead = 1, kWatchWrite = 2;
struct WriteWatch {
  std::function<bool(uint32_t eip)> wraps;
  std::function<WatchedAccess(uint32_t linear, unsigned bytes, unsigned access)> begin;
  std::function<void()> end;
  std::function<bool(uint32_t eip)> must;
};

class EngineCore;

class Engine {
 public:
  Engine(cpu::Cpu& cpu, CodeSource& code, const Options& opt = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs translated guest code from the vCPU's current state until something needs the caller.
  // With `progress`, the first translation unit runs even if the yield check would stop it (the
  // caller sent the engine there for one instruction direct execution cannot do).
  RunExit run(bool progress = false);
  // Runs exactly one guest instruction, from a translation made for it alone. Untraced (the
  // caller turned code-page tracing off: the instruction may write the code that follows it),
  // that translation is discarded; `traced`, it is kept for the next time. Returns Yield when
  // the instruction completed normally.
  RunExit run_single(bool traced = false);

  // Asked before the engine enters a unit through the dispatcher, and before it links a branch
  // or caches an indirect target, whether control at `eip` should go back to the caller
  // (RunExit::Kind::Yield). Branches it answers true for are never chained, so they keep asking.
  void set_yield_check(std::function<bool(uint32_t eip)> check);

  void set_write_watch(WriteWatch w);

  // Stops execution (RunExit::Kind::Stop) when control reaches `eip` (differential tests).
  void set_stop_eip(std::optional<uint32_t> eip);
  // Discards every translation (e.g. after guest code was modified behind our back).
  void flush();
  // Undoes every chain and empties the jump cache, keeping the translations: for when the
  // guest's linear-to-physical mappings change wholesale (a global TLB flush).
  void unlink();
  // The same for chains and jump-cache entries into code on one linear page (invlpg), or on
  // pages the guest does not map global (a CR3 write; see CodeSource::global).
  void unlink_page(uint32_t linear);
  void unlink_nonglobal();
  // Discards the translations made from guest frame `frame` (CodeSource::phys_page), e.g.
  // after the guest wrote it; returns how many there were.
  size_t invalidate_frame(uint32_t frame);
  const Stats& stats() const;
  // With Options::count_entries: entries per unit so far (flushed units included), the
  // guest instructions they ran and the `top` hottest guest addresses.
  EntryCounts entry_counts(size_t top) const;
  // Called with every unit the engine makes, right after it is installed (translation
  // dumps, perf maps). Its time is not counted as translation time.
  void set_unit_observer(std::function<void(const UnitRecord&)> observer);
  // Translates (only) the unit at `eip` as a new unit, for benchmarks. Returns its host code
  // size; `guest_bytes` receives how many guest code bytes it covers.
  size_t translate_for_bench(uint32_t eip, uint32_t* guest_bytes = nullptr);

 private:
  std::unique_ptr<EngineCore> impl_;
};

// Disassembles the guest instruction at `bytes` (32-bit mode) as "bytes  mnemonic operands".
std::string disassemble(const uint8_t* bytes, size_t avail, uint32_t eip);

}  // namespace bt
