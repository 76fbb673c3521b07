#include "de_windows.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "de_stub_abi.h"
#include "de_window_ops.h"

namespace hostexec::de {

DeStub& DeWindows::prepare(uint32_t space, bool cr3_written,
                           const std::function<std::vector<shadowmmu::HeldPage>()>& want,
                           const std::function<void()>& drop_window) {
  try {
    return update(space, cr3_written, want);
  } catch (const Full&) {
    // What the process holds is now partly unknown; the whole-window unmap that dropping the
    // monitor's window queues makes it (and its model) empty again.
    stats_.full++;
    stubs_.current().model.doubt_all();  // the changes after the refused one never ran
    drop_window();
    mirror(stubs_.current());
    return stubs_.current();
  }
}

DeStub& DeWindows::update(uint32_t space, bool cr3_written,
                          const std::function<std::vector<shadowmmu::HeldPage>()>& want) {
  DeStub& cur = stubs_.current();
  // Paging turned on or off: the shadow dropped the whole window, so the queue rebuilds the
  // current process's from nothing, whatever space it held.
  if (space == DeStubs::kNoPaging || cur.space == DeStubs::kNoPaging ||
      (!cr3_written && space == cur.space)) {
    stubs_.relabel(space);
    mirror(cur);
    return cur;
  }
  queue_.take();  // superseded by the difference below
  DeStub& s = stubs_.choose(space);
  stats_.switches++;
  const std::vector<shadowmmu::WindowChange> diff = s.model.diff(want());
  for (const shadowmmu::WindowChange& c : diff) s.model.apply(c);
  stats_.diffs += diff.size();
  send(s, diff);
  return s;
}

void DeWindows::mirror(DeStub& s) {
  std::vector<shadowmmu::WindowChange> changes = queue_.take();
  stats_.changes += changes.size();
  std::erase_if(changes, [&](const shadowmmu::WindowChange& c) {
    if (s.model.redundant(c)) return true;
    s.model.apply(c);
    return false;
  });
  send(s, changes);
}

void DeWindows::send(DeStub& s, const std::vector<shadowmmu::WindowChange>& changes) {
  if (changes.empty()) return;
  using K = shadowmmu::WindowChange::Kind;
  using Op = DeProcess::WindowOp;
  std::vector<Op> ops;
  ops.reserve(changes.size());
  for (const shadowmmu::WindowChange& c : changes)
    ops.push_back(Op{c.kind == K::Map       ? Op::Kind::Map
                     : c.kind == K::Protect ? Op::Kind::Protect
                                            : Op::Kind::Unmap,
                     c.prot, c.addr, c.len, c.ram_offset});
  drop_superseded_protects(ops);
  merge_adjacent(ops);
  stats_.sent += ops.size();
  stats_.commands += (ops.size() + DE_STUB_MAX_WINDOW_OPS - 1) / DE_STUB_MAX_WINDOW_OPS;
  size_t at = 0;
  if (int r = s.process.change_window(ops.data(), ops.size(), &at); r != 0) {
    if (r == -ENOMEM) throw Full{};
    const Op& c = ops[at];
    throw std::runtime_error(
        fmt::format("the direct-execution process refused a window change ({} {:#x}+{:#x}): {}",
                    c.kind == Op::Kind::Map       ? "map"
                    : c.kind == Op::Kind::Protect ? "protect"
                                                  : "unmap",
                    c.addr, c.len, std::strerror(-r)));
  }
}

}  // namespace hostexec::de
