// Classic BPF, written as straight-line "require" checks (a failed check falls into a kill)
// inside one block per allowed system call, so no jump offset spans more than one block.
#include "de_stub_filter.h"

#include <linux/audit.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <cstddef>
#include <stdexcept>

#include "de_stub_abi.h"

namespace hostexec::de {

namespace {

using Prog = std::vector<sock_filter>;

constexpr uint32_t kNr = offsetof(seccomp_data, nr);
constexpr uint32_t kArch = offsetof(seccomp_data, arch);
constexpr uint32_t kIp = offsetof(seccomp_data, instruction_pointer);
constexpr uint32_t lo(uint32_t field) {
  return field;
}
constexpr uint32_t hi(uint32_t field) {
  return field + 4;
}
constexpr uint32_t arg(int i) {
  return uint32_t(offsetof(seccomp_data, args) + 8 * i);
}

sock_filter stmt(uint16_t code, uint32_t k) {
  return sock_filter{code, 0, 0, k};
}
sock_filter jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
  return sock_filter{code, jt, jf, k};
}

void load(Prog& p, uint32_t offset) {
  p.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offset));
}
void kill(Prog& p) {
  p.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
}
void allow(Prog& p) {
  p.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
}
// The monitor decides (de_process_calls.cpp, through the listener): the call waits until it
// has compared the arguments with the window change it asked for.
void ask_monitor(Prog& p) {
  p.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF));
}
// A == k, or the process dies.
void require_eq(Prog& p, uint32_t k) {
  p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, k, 1, 0));
  kill(p);
}
// A <= k, or the process dies.
void require_le(Prog& p, uint32_t k) {
  p.push_back(jump(BPF_JMP | BPF_JGT | BPF_K, k, 0, 1));
  kill(p);
}
// (A & k) == 0, or the process dies.
void require_clear(Prog& p, uint32_t k) {
  p.push_back(jump(BPF_JMP | BPF_JSET | BPF_K, k, 0, 1));
  kill(p);
}
void require_arg_eq(Prog& p, int i, uint64_t v) {
  load(p, lo(arg(i)));
  require_eq(p, uint32_t(v));
  load(p, hi(arg(i)));
  require_eq(p, uint32_t(v >> 32));
}

// Arguments `a` (address) and `a + 1` (length): addr + len <= DE_WINDOW_END, with 64-bit
// arithmetic done in 32-bit halves (addr and len below 2^33 each, so no overflow).
void require_in_window(Prog& p, int a) {
  static_assert(DE_WINDOW_END == 0x200000000ull, "the halves below assume 8 GiB");
  load(p, hi(arg(a)));
  require_le(p, 1);
  p.push_back(stmt(BPF_ST, 0));  // M0 = addr.hi
  load(p, hi(arg(a + 1)));
  require_le(p, 1);
  p.push_back(stmt(BPF_ST, 1));  // M1 = len.hi
  load(p, lo(arg(a)));
  p.push_back(stmt(BPF_ST, 2));  // M2 = addr.lo
  load(p, lo(arg(a + 1)));
  p.push_back(stmt(BPF_MISC | BPF_TAX, 0));
  p.push_back(stmt(BPF_LD | BPF_MEM, 2));
  p.push_back(stmt(BPF_ALU | BPF_ADD | BPF_X, 0));
  p.push_back(stmt(BPF_ST, 3));  // M3 = (addr.lo + len.lo) mod 2^32
  p.push_back(stmt(BPF_LDX | BPF_MEM, 2));
  p.push_back(jump(BPF_JMP | BPF_JGE | BPF_X, 0, 0, 2));  // sum.lo >= addr.lo: no carry
  p.push_back(stmt(BPF_LD | BPF_IMM, 0));
  p.push_back(jump(BPF_JMP | BPF_JA, 1, 0, 0));
  p.push_back(stmt(BPF_LD | BPF_IMM, 1));
  p.push_back(stmt(BPF_MISC | BPF_TAX, 0));  // X = carry
  p.push_back(stmt(BPF_LD | BPF_MEM, 0));
  p.push_back(stmt(BPF_ALU | BPF_ADD | BPF_X, 0));
  p.push_back(stmt(BPF_LDX | BPF_MEM, 1));
  p.push_back(stmt(BPF_ALU | BPF_ADD | BPF_X, 0));  // A = sum.hi
  require_le(p, 2);
  p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 3));  // sum.hi == 2: sum.lo must be 0
  p.push_back(stmt(BPF_LD | BPF_MEM, 3));
  require_eq(p, 0);
}

void require_prot(Prog& p, int a) {
  load(p, lo(arg(a)));
  require_clear(p, ~uint32_t(PROT_READ | PROT_WRITE | PROT_EXEC));
  load(p, hi(arg(a)));
  require_eq(p, 0);
}

Prog mmap_block(bool approve) {
  Prog p;
  require_in_window(p, 0);
  require_prot(p, 2);
  require_arg_eq(p, 3, MAP_SHARED | MAP_FIXED);
  require_arg_eq(p, 4, DE_STUB_RAM_FD);
  if (approve)
    ask_monitor(p);
  else
    allow(p);
  return p;
}

// PROT_NONE only takes rights away (parking, at every entry to ring 3): let through.
Prog mprotect_block(bool approve) {
  Prog p;
  require_in_window(p, 0);
  require_prot(p, 2);
  load(p, lo(arg(2)));
  p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, PROT_NONE, 0, 1));
  allow(p);
  if (approve)
    ask_monitor(p);
  else
    allow(p);
  return p;
}

Prog munmap_block() {
  Prog p;
  require_in_window(p, 0);
  allow(p);
  return p;
}

// The stub waits on seq and wakes done; nothing else of the futex interface is reachable.
Prog futex_block() {
  constexpr uint64_t kSeq = DE_STUB_CONTROL + offsetof(de_stub_control, seq);
  constexpr uint64_t kDone = DE_STUB_CONTROL + offsetof(de_stub_control, done);
  static_assert(kSeq >> 32 == kDone >> 32);
  Prog p;
  load(p, hi(arg(0)));
  require_eq(p, uint32_t(kSeq >> 32));
  load(p, lo(arg(0)));
  p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, uint32_t(kSeq), 2, 0));  // over the next check
  require_eq(p, uint32_t(kDone));
  load(p, lo(arg(1)));
  require_le(p, FUTEX_WAKE);
  static_assert(FUTEX_WAIT == 0 && FUTEX_WAKE == 1);
  load(p, hi(arg(1)));
  require_eq(p, 0);
  allow(p);
  return p;
}

// Host LDT entries for the guest's segments: only a write of the one descriptor in the
// control page. The kernel accepts nothing but user (DPL 3) code and data segments there.
Prog modify_ldt_block() {
  Prog p;
  require_arg_eq(p, 0, 1);
  require_arg_eq(p, 1, DE_STUB_CONTROL + DE_OFF_LDT);
  require_arg_eq(p, 2, sizeof(de_stub_ldt));
  allow(p);
  return p;
}

Prog allow_block() {
  Prog p;
  allow(p);
  return p;
}

// if (nr == n) { block } — the block ends in a return.
void add_case(Prog& p, uint32_t n, const Prog& block) {
  if (block.size() > 255) throw std::logic_error("seccomp block too long for a BPF jump");
  load(p, kNr);
  p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, n, 0, uint8_t(block.size())));
  p.insert(p.end(), block.begin(), block.end());
}

}  // namespace

std::vector<sock_filter> stub_filter(uint64_t syscall_next, bool approve_maps) {
  Prog p;
  load(p, kArch);
  // An i386 system call (int 0x80 from entered code) never runs: it becomes SIGSYS, which
  // the stub's handler reports as an exit. Its instruction pointer is the guest's.
  p.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 1));
  p.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_TRAP));
  require_eq(p, AUDIT_ARCH_X86_64);
  load(p, lo(kIp));
  require_eq(p, uint32_t(syscall_next));
  load(p, hi(kIp));
  require_eq(p, uint32_t(syscall_next >> 32));
  // x32 calls (__X32_SYSCALL_BIT set) match none of these numbers.
  add_case(p, SYS_mmap, mmap_block(approve_maps));
  add_case(p, SYS_mprotect, mprotect_block(approve_maps));
  add_case(p, SYS_munmap, munmap_block());
  add_case(p, SYS_futex, futex_block());
  add_case(p, SYS_modify_ldt, modify_ldt_block());
  add_case(p, SYS_rt_sigreturn, allow_block());
  add_case(p, SYS_exit_group, allow_block());
  kill(p);
  if (p.size() > DE_STUB_MAX_FILTER) throw std::logic_error("stub filter too long");
  return p;
}

}  // namespace hostexec::de
