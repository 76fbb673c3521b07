// The stub's mapping calls, approved one by one (SECURITY.md). Code that took over the stub (a
// far transfer to the host's 64-bit selector) can jump to the stub's own `syscall` instruction
// with registers of its choosing, so the filter's static checks (inside the window, the RAM
// descriptor) are not enough: such code could map any page of guest RAM, or give back access
// to pages parked for ring 3. The filter therefore holds every mmap and every mprotect that
// grants any access (SECCOMP_RET_USER_NOTIF) until the monitor has compared its arguments — values
// in registers, which the waiting, single-threaded stub cannot change any more — with the next
// change of the WINDOW batch it sent, kept here in the monitor. Anything else is refused by ending
// the stub.
#include <fmt/format.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "de_stub_abi.h"
#include "hostexec/de_process.h"

namespace hostexec {

namespace {

std::string describe(const seccomp_data& d) {
  const auto* a = d.args;
  if (d.nr == SYS_mmap)
    return fmt::format("mmap({:#x}, {:#x}, {:#x}, {:#x}, {}, {:#x})", a[0], a[1], a[2], a[3],
                       int64_t(a[4]), a[5]);
  if (d.nr == SYS_mprotect) return fmt::format("mprotect({:#x}, {:#x}, {:#x})", a[0], a[1], a[2]);
  return fmt::format("system call {}", d.nr);
}

bool matches(const seccomp_data& d, const DeProcess::WindowOp& op) {
  const auto* a = d.args;
  if (d.arch != AUDIT_ARCH_X86_64) return false;
  if (a[0] != op.addr || a[1] != op.len || a[2] != uint64_t(op.prot)) return false;
  switch (op.kind) {
    case DeProcess::WindowOp::Kind::Map:
      return d.nr == SYS_mmap && a[3] == uint64_t(MAP_SHARED | MAP_FIXED) &&
             a[4] == DE_STUB_RAM_FD && a[5] == op.ram_offset;
    case DeProcess::WindowOp::Kind::Protect:
      return d.nr == SYS_mprotect;
    case DeProcess::WindowOp::Kind::Unmap:
      return false;  // never held
  }
  return false;
}

// One held call, or false if there was none after all (it was withdrawn: the stub died or
// a signal interrupted the call).
bool receive(int listener, seccomp_notif& n) {
  std::memset(&n, 0, sizeof n);
  return ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &n) == 0;
}

constexpr int kSpins = 64;

bool pending(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, timeout_ms) > 0 && (p.revents & POLLIN);
}

}  // namespace

// What the filter holds: everything that can grant access (munmap and mprotect to PROT_NONE
// only take it away).
bool DeProcess::held(const WindowOp& op) {
  return op.kind == WindowOp::Kind::Map || (op.kind == WindowOp::Kind::Protect && op.prot != 0);
}

void DeProcess::approve(uint32_t seq, const WindowOp* ops, size_t n) {
  if (listener_ < 0) return;  // not asked to: the filter holds nothing
  std::atomic_ref<uint32_t> done(control_->done);
  size_t i = 0;
  auto next_held = [&] {
    while (i < n && !held(ops[i])) ++i;
    return i < n;
  };
  while (next_held()) {
    // A change that failed ends the batch early: its answer comes without the rest.
    if (done.load(std::memory_order_acquire) == seq) return;
    // The calls of a batch come back to back: look a few times before sleeping, so that the
    // stub's next call does not have to wake the monitor too.
    pollfd fds[2] = {{listener_, POLLIN, 0}, {pidfd_, POLLIN, 0}};
    int ready = 0;
    for (int spin = 0; spin < kSpins && ready == 0; ++spin) ready = poll(fds, 2, 0);
    if (ready == 0) ready = poll(fds, 2, 20);
    if (ready <= 0) continue;  // a timeout, or a host signal
    if (fds[1].revents && !alive()) throw Died(*death_);
    seccomp_notif note;
    if (!(fds[0].revents & POLLIN) || !receive(listener_, note)) continue;
    if (note.pid != uint32_t(pid_) || !matches(note.data, ops[i]))
      hostile("a mapping call the monitor did not ask for: " + describe(note.data));
    seccomp_notif_resp resp{};
    resp.id = note.id;
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    // ENOENT: the call was withdrawn (a signal; it comes again) or the stub died (seen above).
    if (ioctl(listener_, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0) ++i;
  }
}

// A mapping call while no window change is in flight: code that took over the stub. It waits
// in the filter, so it never ran; the stub is ended.
void DeProcess::refuse_unasked_calls() {
  if (listener_ < 0 || !pending(listener_, 0)) return;
  seccomp_notif note;
  if (!receive(listener_, note)) return;
  hostile("a mapping call the monitor did not ask for: " + describe(note.data));
}

}  // namespace hostexec
