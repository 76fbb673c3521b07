#include "shadowmmu/direct_code.h"

#include <fmt/format.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>

namespace shadowmmu {

namespace {
constexpr uint32_t kPage = 4096;
}

std::string DirectCode::Stats::report() const {
  return fmt::format(
      "direct-execution code pages\n  scans {}\n  made executable {}\n  left to the translator "
      "(cpuid pattern) {}\n  left to the translator (wrpkru/xrstor/syscall/sysenter pattern) {}\n  "
      "left to the translator (lar/lsl/verr/verw pattern) {}\n  "
      "written while "
      "executable {}\n  left to the translator (rewritten "
      "too often) {}\n  left to the translator (code writes its own page) {}\n",
      scans, cleared, cpuid_pages, host_state_pages, selector_query_pages, reverts, flip_limited,
      self_writers);
}

DirectCode::DirectCode(AddressSpace& as, bool cpuid_traps)
    : as_(as),
      cpuid_traps_(cpuid_traps),
      state_(as.ram_size() / kPage, State::Unscanned),
      reverts_(as.ram_size() / kPage, 0) {
  // Pages a previous owner left executable start over.
  for (uint32_t p = 0; p < state_.size(); ++p)
    if (as_.page_flags(p * kPage) & AddressSpace::kDirect) protect(p, false);
}

DirectCode::State DirectCode::state(uint32_t linear) const {
  uint32_t page = linear / kPage;
  return page < state_.size() ? state_[page] : State::Translate;
}

// The page's bytes from two before it to two after it: an instruction may straddle either edge.
DirectCode::Window DirectCode::window(uint32_t page) const {
  uint64_t start = uint64_t(page) * kPage;
  uint64_t from = start >= 2 ? start - 2 : 0;
  uint64_t to = std::min<uint64_t>(start + kPage + 2, as_.ram_size());
  return {as_.phys(from, to - from), size_t(to - from)};
}

bool DirectCode::has_cpuid(uint32_t page) const {
  auto [p, n] = window(page);
  for (size_t i = 0; i + 1 < n; ++i)
    if (p[i] == 0x0f && p[i + 1] == 0xa2) return true;
  return false;
}

// Instructions that must not run directly (SECURITY.md): wrpkru (0F 01 EF) and xrstor with a
// memory operand (0F AE /5) set the host's PKRU, which the host kernel applies to its own
// accesses to the signal stack; syscall (0F 05) and sysenter (0F 34) enter the host kernel on
// some CPUs, which then loses the guest's return address. The translator gives what the CPU
// model defines for each (#UD for the first three on a Pentium III).
bool DirectCode::has_host_state_insn(uint32_t page) const {
  auto [p, n] = window(page);
  for (size_t i = 0; i + 1 < n; ++i) {
    if (p[i] != 0x0f) continue;
    if (p[i + 1] == 0x05 || p[i + 1] == 0x34) return true;
    if (i + 2 >= n) break;
    if (p[i + 1] == 0x01 && p[i + 2] == 0xef) return true;
    if (p[i + 1] == 0xae && ((p[i + 2] >> 3) & 7) == 5 && (p[i + 2] >> 6) != 3) return true;
  }
  return false;
}

// lar (0F 02), lsl (0F 03), verr (0F 00 /4) and verw (0F 00 /5) do not trap at CPL 3: run
// directly they would read the host's GDT and LDT (the guest's segment aliases there, or the
// host's own entries), so their pages go to the translator, which asks the guest's tables.
bool DirectCode::has_selector_query(uint32_t page) const {
  auto [p, n] = window(page);
  for (size_t i = 0; i + 1 < n; ++i) {
    if (p[i] != 0x0f) continue;
    if (p[i + 1] == 0x02 || p[i + 1] == 0x03) return true;
    if (p[i + 1] == 0x00 && i + 2 < n && (((p[i + 2] >> 3) & 7) == 4 || ((p[i + 2] >> 3) & 7) == 5))
      return true;
  }
  return false;
}

void DirectCode::protect(uint32_t page, bool direct) {
  // Read-only while executable, so a write (self-modifying or freshly loaded code) is seen.
  as_.set_page_flag(page * kPage, AddressSpace::kDirect, direct);
  as_.apply_identity_prot(page * kPage);
}

DirectCode::State DirectCode::on_fetch(uint32_t linear) {
  uint32_t page = linear / kPage;
  if (page >= state_.size()) return State::Translate;
  State& s = state_[page];
  if (s != State::Unscanned) return s;
  stats_.scans++;
  if (has_host_state_insn(page)) {
    stats_.host_state_pages++;
    s = State::Translate;
    return s;
  }
  if (has_selector_query(page)) {
    stats_.selector_query_pages++;
    s = State::Translate;
    return s;
  }
  if (!cpuid_traps_ && has_cpuid(page)) {
    stats_.cpuid_pages++;
    s = State::Translate;
    return s;
  }
  protect(page, true);
  stats_.cleared++;
  s = State::Direct;
  return s;
}

bool DirectCode::on_write(uint32_t linear, uint32_t writer) {
  uint32_t page = linear / kPage;
  if (page >= state_.size() || state_[page] != State::Direct) return false;
  protect(page, false);
  stats_.reverts++;
  if (writer / kPage == page) {
    stats_.self_writers++;
    state_[page] = State::Translate;
  } else if (++reverts_[page] >= kMaxReverts) {
    stats_.flip_limited++;
    state_[page] = State::Translate;
  } else {
    state_[page] = State::Unscanned;
  }
  return true;
}

void DirectCode::note_write(uint32_t linear, unsigned len) {
  if (len == 0) return;
  for (uint64_t p = linear / kPage; p <= (uint64_t(linear) + len - 1) / kPage; ++p)
    if (p < state_.size() && state_[p] == State::Direct) on_write(uint32_t(p * kPage), ~0u);
}

}  // namespace shadowmmu
