// The windows of the direct-execution processes (de_stubs.h), kept following the monitor's
// (issue 12, item 3). Every change of the monitor's window that ring 3 may see
// (shadowmmu::Ring3Window) is queued; before an entry the queue goes to the process last
// entered, without the changes its model says alter nothing there. After a CR3 write the
// queue is dropped instead (part of it concerns the space left, whose process keeps its
// window) and the process of the current space gets the difference between its model and what
// it should hold (Shadow::ring3_pages()).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "de_stubs.h"
#include "shadowmmu/ring3_window.h"
#include "shadowmmu/window_model.h"
#include "shadowmmu/window_queue.h"

namespace hostexec::de {

class DeWindows {
 public:
  struct Stats {
    uint64_t changes = 0;   // window changes queued for a process
    uint64_t sent = 0;      // ... sent (not superseded, not there already; diffs included)
    uint64_t commands = 0;  // WINDOW commands that carried them
    uint64_t diffs = 0;     // changes sent as differences after a CR3 write
    uint64_t switches = 0;  // entries after a CR3 write
    uint64_t full = 0;      // a process's window at the host's mapping limit: dropped whole
  };

  DeWindows(int ram_fd, bool approve_maps, const uint16_t* pending)
      : stubs_(ram_fd, approve_maps, pending) {}

  // What the monitor's AddressSpace reports its window changes to.
  shadowmmu::WindowSink& sink() { return ring3_; }
  // Past WindowQueue::kResyncAt queued changes: the caller should drop the whole window.
  bool needs_resync() const { return queue_.needs_resync(); }

  // The process to enter now, its window brought up to date. `space`: the current guest
  // address space (its page directory), or DeStubs::kNoPaging; `cr3_written`: CR3 was
  // written since the last call; `want`: the pages the current space's process should hold,
  // sorted (asked for after a CR3 write only). When the process's window reaches the host's
  // mapping limit (vm.max_map_count: it may hold pages the monitor's window does not), it is
  // dropped whole: `drop_window` must drop the monitor's (the shadow's reset), which reports a
  // whole-window unmap, and the process starts afresh from it. Throws std::runtime_error when a
  // process refuses a change otherwise, DeProcess::Died when it is dead.
  DeStub& prepare(uint32_t space, bool cr3_written,
                  const std::function<std::vector<shadowmmu::HeldPage>()>& want,
                  const std::function<void()>& drop_window);

  DeStubs& stubs() { return stubs_; }
  const Stats& stats() const { return stats_; }
  const shadowmmu::Ring3Window& ring3() const { return ring3_; }

 private:
  // The process's mapping limit refused a change (the ones before it are done).
  struct Full {};
  DeStub& update(uint32_t space, bool cr3_written,
                 const std::function<std::vector<shadowmmu::HeldPage>()>& want);
  void mirror(DeStub& s);
  void send(DeStub& s, const std::vector<shadowmmu::WindowChange>& changes);

  DeStubs stubs_;
  shadowmmu::WindowQueue queue_;
  shadowmmu::Ring3Window ring3_{queue_};  // what of the monitor's window reaches queue_
  Stats stats_;
};

}  // namespace hostexec::de
