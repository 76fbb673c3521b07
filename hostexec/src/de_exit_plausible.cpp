#include "de_exit_plausible.h"

#include <signal.h>

namespace hostexec::de {

namespace {
constexpr uint64_t kFixed1 = 0x2, kIf = 0x200;
// CF PF AF ZF SF TF IF DF OF NT RF AC ID and the fixed bit: what user mode can hold (VM, VIF,
// VIP and IOPL stay 0 there).
constexpr uint64_t kUserFlags = 0x1 | 0x2 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 |
                                0x800 | 0x4000 | 0x10000 | 0x40000 | 0x200000;
constexpr uint16_t kHostCs32 = 0x23;  // x86-64 Linux __USER32_CS
}  // namespace

bool plausible_compat_exit(const de_stub_regs& r, int signo, const char** why) {
  auto no = [&](const char* w) {
    *why = w;
    return false;
  };
  if (r.rip >> 32) return no("rip above 4 GiB");
  for (int i = 0; i < 8; ++i)
    if ((r.gpr[i] >> 32) && !(i == 0 && signo == SIGSYS))
      return no("a general register above 32 bits");
  if ((r.rflags & kUserFlags) != r.rflags) return no("EFLAGS bits user mode cannot hold");
  if ((r.rflags & (kFixed1 | kIf)) != (kFixed1 | kIf)) return no("EFLAGS without IF or bit 1");
  if ((r.cs & 3) != 3 || (r.ss & 3) != 3) return no("a CS or SS with an RPL other than 3");
  if (r.cs != kHostCs32 && !(r.cs & 4)) return no("a CS user mode cannot hold");
  return true;
}

}  // namespace hostexec::de
