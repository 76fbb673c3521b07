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
  // sorted (asked for after a CR3 write only). Throws std::runtime_error when a process
  // refuses a change, DeProcess::Died when it is dead.
  DeStub& prepare(uint32_t space, bool cr3_written,
                  const std::function<std::vector<shadowmmu::HeldPage>()>& want);

  DeStubs& stubs() { return stubs_; }
  const Stats& stats() const { return stats_; }
  const shadowmmu::Ring3Window& ring3() const { return ring3_; }

 private:
  void mirror(DeStub& s);
  void send(DeStub& s, const std::vector<shadowmmu::WindowChange>& changes);

  DeStubs stubs_;
  shadowmmu::WindowQueue queue_;
  shadowmmu::Ring3Window ring3_{queue_};  // what of the monitor's window reaches queue_
  Stats stats_;
};

}  // namespace hostexec::de
