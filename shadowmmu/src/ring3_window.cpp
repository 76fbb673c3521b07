#include "shadowmmu/ring3_window.h"

namespace shadowmmu {

Ring3View ring3_view(const WindowChange& c) {
  if (c.kind == WindowChange::Kind::Unmap || c.ring3 == Ring3::Allowed) return Ring3View::Keep;
  // A page ring 3 may not use. Mapped: whatever the process held there (a user mapping the
  // monitor has just replaced) must go. Protected: the process does not hold it.
  return c.kind == WindowChange::Kind::Map ? Ring3View::Unmap : Ring3View::Drop;
}

void Ring3Window::window_changed(const WindowChange& c) {
  switch (ring3_view(c)) {
    case Ring3View::Keep:
      next_.window_changed(c);
      return;
    case Ring3View::Unmap:
      maps_withheld_++;
      next_.window_changed({WindowChange::Kind::Unmap, 0, c.addr, c.len});
      return;
    case Ring3View::Drop:
      protects_dropped_++;
      return;
  }
}

}  // namespace shadowmmu
