#include "de_window_ops.h"

#include <algorithm>

namespace hostexec::de {

namespace {
using Op = DeProcess::WindowOp;

bool overlaps(const Op& a, const Op& b) {
  return a.addr < b.addr + b.len && b.addr < a.addr + a.len;
}

// How far to look for the replacing change: the park and give-back of one kernel round trip
// are a few dozen changes apart at most; a longer queue is trimmed where it can be.
constexpr size_t kLookahead = 512;
}  // namespace

void drop_superseded_protects(std::vector<Op>& ops) {
  std::vector<bool> drop(ops.size(), false);
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].kind != Op::Kind::Protect) continue;
    const size_t end = std::min(ops.size(), i + 1 + kLookahead);
    for (size_t j = i + 1; j < end; ++j) {
      if (!overlaps(ops[i], ops[j])) continue;
      drop[i] = ops[j].kind == Op::Kind::Protect && ops[j].addr == ops[i].addr &&
                ops[j].len == ops[i].len;
      break;
    }
  }
  size_t out = 0;
  for (size_t i = 0; i < ops.size(); ++i)
    if (!drop[i]) ops[out++] = ops[i];
  ops.resize(out);
}

namespace {
// b continues a: the same kind and protection, the next pages of the window (and of RAM).
bool continues(const Op& a, const Op& b) {
  if (a.kind != b.kind || a.prot != b.prot || a.addr + a.len != b.addr) return false;
  return a.kind != Op::Kind::Map || a.ram_offset + a.len == b.ram_offset;
}
}  // namespace

void merge_adjacent(std::vector<Op>& ops) {
  size_t out = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (out > 0 && continues(ops[out - 1], ops[i]))
      ops[out - 1].len += ops[i].len;
    else
      ops[out++] = ops[i];
  }
  ops.resize(out);
}

}  // namespace hostexec::de
