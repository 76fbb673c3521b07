// The shadow of the guest's page tables (DESIGN §6): with guest paging on, window address X
// holds the guest-physical page the guest's tables map X to, installed lazily when a host fault
// at X shows the guest allows the access ("hidden" faults); an access the guest does not allow
// becomes a guest #PF ("true" faults). Pages whose guest entry is not dirty are mapped
// read-only, so the first write comes back to set D.
//
// Coherence comes from page-table traces: every guest page holding an entry a mapping was made
// from is read-only in the window. A write to one is run by the monitor alone (begin/end
// below) and the mappings made from the entries it changed are dropped, so the shadow never
// holds a mapping the guest's tables no longer give (stricter than a TLB, which may keep one
// until the flush). Address spaces: a CR3 write drops the non-global mappings; global ones
// stay, as in the TLB, until invlpg or a paging-mode change.
//
// User/supervisor: translated ring-3 code reaches the same window as translated ring-0 code.
// With no protection keys on the host, ring-3 code that runs translated has the mappings it
// must not use (supervisor pages, or pages writable only for ring 0) parked first: mprotect
// makes them inaccessible, a run of pages at a time; back in ring 0, a run comes back at the
// first access to one of its pages (a hidden fault). User pages stay as they are. Directly executed
// ring-3 code runs in another window, the confined process's, which never holds such pages
// (ring3_window.h): with direct execution, parking waits for the first translated ring-3 run
// (set_lazy_parking).
//
// With one such process per recently used address space (set_process_per_space), a CR3 write
// keeps the user mappings of the space left in a list instead of restoring them here later:
// its process still holds them. When the space comes back, each is checked against its tables
// (a walk that sets nothing) and recorded again as held by the process only, traced like any
// other, so the process keeps them without a host call and drops them when their entries
// change (ring3_pages() is what that process should hold).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include "cpu/vcpu.h"
#include "shadowmmu/address_space.h"
#include "shadowmmu/page_walker.h"
#include "shadowmmu/window_model.h"

namespace shadowmmu {

class Shadow {
 public:
  Shadow(AddressSpace& as, const cpu::Vcpu& v) : as_(as), v_(v) {}

  struct Stats {
    uint64_t hidden_faults = 0;  // filled silently
    uint64_t true_faults = 0;    // became a guest #PF
    uint64_t pages_mapped = 0;   // including prefetched
    uint64_t prefetched = 0;     // neighbours mapped along with a hidden fault
    uint64_t pages_dropped = 0;
    uint64_t drops_all = 0;       // whole-shadow drops (paging mode changes, host mapping limit)
    uint64_t global_flushes = 0;  // CR4.PGE toggles
    uint64_t cr3_switches = 0;
    uint64_t globals_kept = 0;         // global mappings that outlived a CR3 write
    uint64_t user_entries = 0;         // ring-3 entries that had supervisor mappings to hide
    uint64_t supervisor_parked = 0;    // ... hidden by mprotect
    uint64_t park_calls = 0;           // ... in this many calls (one per span)
    uint64_t supervisor_unparked = 0;  // ... accessible again: ring 0 touched their run
    uint64_t unpark_calls = 0;         // ... in this many calls (one per run touched)
    uint64_t supervisor_drops = 0;     // ... unmapped (beyond kParkRuns calls)
    uint64_t parks_skipped = 0;        // lazy: ring-3 entries left with no translated ring-3 run
    uint64_t restored = 0;             // mappings made again when CR3 came back
    uint64_t direct_only = 0;  // hidden faults from direct execution, mapped in its process only
    uint64_t taken_up = 0;     // ... recorded again, held by the space's direct-execution process
    uint64_t invlpg = 0;
    uint64_t tables_traced = 0;    // pages that became traced page tables
    uint64_t tables_released = 0;  // ... and stopped being traced (written while unused)
    uint64_t table_writes = 0;     // trace hits: guest writes to traced page tables
    uint64_t entries_changed = 0;
    uint64_t table_drops = 0;    // mappings dropped because their entry changed
    uint64_t table_updates = 0;  // ... and mapped at once from the new entry
    std::string report() const;
  };

  enum class Outcome { Mapped, GuestFault, NoRam };
  struct Fill {
    Outcome outcome;
    uint32_t error = 0;  // GuestFault: the #PF error code
    uint32_t phys = 0;   // Mapped: the guest-physical address
  };
  // A host fault at window address `linear` (a write or not) from code at `user` privilege.
  // `direct`: in the direct-execution process's window (with one process per address space, a
  // user page is then mapped there only: the monitor's code has not touched it).
  Fill fill(uint32_t linear, bool write, bool user, bool direct = false);
  // The same, with the walk (translate) for that access already made.
  Fill fill(uint32_t linear, bool user, const std::variant<Translation, uint32_t>& walked,
            bool direct = false);

  // The guest's translation of `linear` without installing anything (monitor accesses, code
  // fetches); the walk still sets A/D as the CPU would.
  std::variant<Translation, uint32_t> translate(uint32_t linear, bool write, bool user);
  // The guest-physical address of `linear` for that access: itself with paging off, nullopt
  // where the guest would fault.
  std::optional<uint32_t> phys_of(uint32_t linear, bool write, bool user);

  // Paging-mode changes (CR0.WP, CR4.PSE): everything goes.
  void drop_all();
  // CR4.PGE toggled (a global TLB flush): the global mappings go; the others follow the
  // current tables already (traces), and belong to the current directory (CR3 writes).
  void drop_globals();
  // Empties the whole window, whatever is in it (paging turned on over the identity map).
  void reset();
  void invlpg(uint32_t linear);
  // CR3 changed from `old_cr3` to the vCPU's: the non-global mappings go, and the ones this
  // address space had when it was left last are mapped again (where its tables still give
  // them, accessed): the host fault each would cost is ten times an mmap.
  void cr3_written(uint32_t old_cr3);
  // Ring 3 is about to run: mappings it may not use are parked (inaccessible) or dropped; with
  // lazy parking only once ring-3 code is about to run in this window (translated_user()).
  void entering_user();
  // Back in ring 0 from ring 3: a parking still owed is forgotten. Parked mappings stay parked
  // until a ring-0 access to their run faults (fill).
  void entering_kernel();
  // Ring-3 code also runs outside this window (direct execution, in the confined process's):
  // then entering_user() only notes that parking is owed, and translated_user() pays it.
  void set_lazy_parking(bool on) { lazy_parking_ = on; }
  // Ring-3 code is about to run translated, in this window (called before every such run; with
  // lazy parking off, or nothing owed, it does nothing).
  void translated_user() {
    if (park_owed_) park_supervisor();
  }
  bool park_owed() const { return park_owed_; }
  // Ring-3 code runs directly in one host process per recently used guest address space
  // (hostexec::DirectExec): see the top of this file.
  void set_process_per_space(bool on) { per_space_ = on; }
  // The pages the current space's direct-execution process should hold, sorted: every mapping
  // ring 3 may use, with the rights it has.
  std::vector<HeldPage> ring3_pages() const;
  // The flags of guest-physical page `phys` changed: its mappings get the rights they imply.
  void protect_phys(uint32_t phys);

  // Page-table traces. is_table: the page holds entries mappings were made from.
  bool is_table(uint32_t phys) const { return as_.page_flags(phys) & AddressSpace::kTable; }
  // A guest write to the traced table mapped at window page `linear` is about to run alone:
  // the page is writable until table_write_end, which drops what the changed entries made.
  void table_write_begin(uint32_t linear);
  // The same for a write the monitor redirected to the physmap (bt::WriteWatch): `bytes` at
  // guest-physical `phys` (within one page); no window page is opened.
  void table_write_watched(uint32_t phys, unsigned bytes);
  void table_write_end();
  bool table_write_open() const { return open_.has_value(); }
  // The monitor is about to write guest-physical [phys, phys+len) through the physmap.
  void note_write(uint32_t phys, unsigned len);

  size_t mapped_pages() const { return maps_.size(); }
  const Stats& stats() const { return stats_; }

 private:
  struct Mapping {
    uint32_t phys;  // page frame address
    uint32_t pde_pa, pte_pa;
    bool may_write;  // the guest allows writes with the filling privilege, and D is set
    bool global;
    bool user_safe;  // ring 3 may use it as mapped
    bool parked;     // inaccessible since ring 3 ran (a supervisor mapping), until unparked
    // Held by the direct-execution process only, not in the monitor's window (taken up again
    // when CR3 came back); a fault here replaces it by a mapping in both.
    bool elsewhere;
    uint32_t seq;  // when it was made (the most recent are remembered per address space)
  };
  struct Table {
    uint32_t refs = 0;            // mappings made from its entries (0: idle, still traced)
    bool dir = false;             // used as a page directory
    std::vector<uint16_t> slots;  // used as a page table under these directory slots
  };

  static constexpr uint32_t kPageMask = ~0xfffu;
  bool in_ram(uint32_t phys) const { return uint64_t(phys & kPageMask) + 4096 <= as_.ram_size(); }
  // The translation of window page `page` a walk would give without setting an A or D bit, if
  // it is in RAM (what may be mapped ahead of an access: prefetch, restore, updates).
  std::optional<Translation> peek_mappable(uint32_t page, bool user) const;
  // Maps `linear` as `t` says (and records it); false when the host refuses more mappings.
  // `here` false: only records it as held by the direct-execution process (a user page).
  bool install(uint32_t linear, const Translation& t, bool here = true);
  // Gives window page `page` the rights `m` has now, wherever it is held.
  bool reprotect(uint32_t page, const Mapping& m);
  // Of the space left, for its process (`nonglobal`: nonglobal_pages()).
  void keep_user_pages(uint32_t cr3, const std::vector<uint32_t>& nonglobal);
  void take_up_user_pages(uint32_t cr3);  // ... of the space that came back
  void restore_recent_pages(uint32_t cr3);
  // A traced table no mapping uses is released (untraced); returns whether it was.
  bool release_if_idle(uint32_t phys);
  void prefetch(uint32_t linear, bool here);  // ring-3 fills only
  // Whether a direct-execution process may hold what `t` gives (ring 3 may use it as mapped).
  static bool user_safe(const Translation& t) {
    return t.user && (!(t.writable && t.dirty) || t.user_writable);
  }
  // A ring-0 access at parked window page `page`, which the guest allows as `t`: its run of
  // parked neighbours is made accessible again in one call; false if it is not parked as `t`.
  bool unpark(uint32_t page, const Translation& t);
  int prot_for(const Mapping& m) const;    // as mapped now (PROT_NONE while parked)
  int rights_for(const Mapping& m) const;  // ... once unparked
  static Ring3 ring3_of(const Mapping& m) { return m.user_safe ? Ring3::Allowed : Ring3::Denied; }
  void park_supervisor();
  // Whether window pages [from, to) hold nothing the window shows now: no mapping, or parked,
  // or held by the direct-execution process only.
  bool shows_nothing(uint32_t from, uint32_t to) const;
  void compact_unsafe();
  // Forgets the record (and the table references) of a mapping that is gone or replaced.
  void forget(std::map<uint32_t, Mapping>::iterator it);
  void remove(uint32_t page);
  std::vector<uint32_t> nonglobal_pages() const;  // nonglobal_, sorted
  template <class Pred>
  size_t remove_if(Pred pred);
  void remove_pages(const std::vector<uint32_t>& pages);  // a whole-window drop if that is all
  void drop_window();
  void host_limit();
  void trace_table(uint32_t entry_pa, bool dir, uint32_t linear);
  void untrace_table(uint32_t entry_pa);
  void release_table(uint32_t frame);
  // The entry at `entry_pa` changes: what was made from it goes; once `written`, an accessed
  // user page it now gives is mapped at once.
  void entry_changed(uint32_t entry_pa, bool written);

  AddressSpace& as_;
  const cpu::Vcpu& v_;
  static constexpr size_t kBulkDrop = 4096;
  std::map<uint32_t, Mapping> maps_;  // by window page
  // The window pages of maps_ whose mapping is not global: what a CR3 write drops. Linux keeps
  // about a thousand global mappings and a few non-global ones per switch; walking maps_ for
  // those was most of the monitor's own time in CR3 writes.
  std::unordered_set<uint32_t> nonglobal_;
  std::unordered_map<uint32_t, std::vector<uint32_t>> aliases_;  // frame -> window pages
  std::unordered_map<uint32_t, Table> tables_;                   // table frame -> uses
  std::vector<uint32_t> unsafe_;  // window pages mapped for ring 0 only (may be stale)
  bool lazy_parking_ = false;
  bool park_owed_ = false;  // lazy: ring 3 was entered and nothing is parked yet
  uint32_t seq_ = 0;
  // Address spaces left by CR3 writes, the most recent last, with their latest mapped pages.
  struct Space {
    uint32_t cr3;
    std::vector<uint32_t> pages;
  };
  std::vector<Space> spaces_;
  bool per_space_ = false;
  std::vector<Space> held_;  // per_space_: the user pages each space's process holds
  static constexpr size_t kSpaces = 8, kSpacePages = 128, kParkRuns = 64;
  struct OpenWrite {
    uint32_t page;  // the window page opened for the write, or kNoPage
    uint32_t phys;  // the first entry copied
    std::vector<uint8_t> before;
  };
  static constexpr uint32_t kNoPage = 1;  // no window page is at an odd address
  std::optional<OpenWrite> open_;
  Stats stats_;
};

}  // namespace shadowmmu
