#include "de_segments.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace hostexec::de {

using namespace cpu;

namespace {
bool expand_down(const Segment& g) {
  return !(g.type() & 8) && (g.type() & 4);
}
bool writable_data(const Segment& g) {
  return !(g.type() & 8) && (g.type() & 2);
}
bool null_or_unusable(const Segment& g) {
  return (g.sel & ~3u) == 0 || !g.present();
}
}  // namespace

bool HostSegments::mirrorable(Seg s, const Segment& g, const char** why) {
  auto no = [&](const char* w) {
    if (why) *why = w;
    return false;
  };
  if (s == CS) {
    if (!g.present() || !g.is_code()) return no("CS does not hold a code segment");
    if (!g.db()) return no("16-bit code segment");
    if (g.type() & 4) return no("conforming code segment");  // modify_ldt refuses those
  } else if (s == SS) {
    if (!g.present() || !writable_data(g)) return no("SS is not a writable data segment");
    if (!g.db()) return no("16-bit stack segment");
  } else if (!null_or_unusable(g)) {
    if (!g.s()) return no("system descriptor in a data segment register");
    if (g.is_code() && (g.type() & 4)) return no("conforming code in a data segment register");
  }
  // Guest LDT selectors would collide with the alias slots (only indices 1-6 are ours, but a
  // guest LDT selector of another index would load whatever the host LDT holds there).
  if (!null_or_unusable(g) && (g.sel & 4)) return no("guest LDT selector");
  return true;
}

std::optional<uint16_t> HostSegments::alias(Seg s, const Segment& g, const char** why) {
  if (!mirrorable(s, g, why)) return std::nullopt;
  if (s != CS && s != SS && null_or_unusable(g)) return uint16_t(0);
  user_desc d{};
  d.entry_number = unsigned(s) + 1;
  d.base_addr = g.base;
  d.limit = g.gran() ? g.limit >> 12 : g.limit;
  d.limit_in_pages = g.gran();
  d.seg_32bit = g.db();
  if (g.is_code()) {
    d.contents = MODIFY_LDT_CONTENTS_CODE;
    d.read_exec_only = !(g.type() & 2);
  } else {
    d.contents = expand_down(g) ? MODIFY_LDT_CONTENTS_STACK : MODIFY_LDT_CONTENTS_DATA;
    d.read_exec_only = !(g.type() & 2);
  }
  d.useable = (g.attr >> 12) & 1;  // AVL
  const int i = int(s);
  if (!valid_[i] || std::memcmp(&slots_[i], &d, sizeof d) != 0) {
    if (int r = process_.set_ldt(d); r != 0)
      throw std::runtime_error(std::string("modify_ldt in the direct-execution process: ") +
                               std::strerror(-r));
    slots_[i] = d;
    valid_[i] = true;
    ldt_writes_++;
  }
  return slot_selector(s);
}

}  // namespace hostexec::de
