// What an exit record may claim about compatibility-mode code (hostexec/src/de_exit_plausible.h):
// states such code really leaves pass, each thing no compat-mode user code can hold is refused.
#include "de_exit_plausible.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cstring>
#include <string>

namespace {

using hostexec::de::plausible_compat_exit;

de_stub_regs genuine() {
  de_stub_regs r{};
  for (int i = 0; i < 8; ++i) r.gpr[i] = 0xfffffff0u - uint32_t(i);
  r.rip = 0xc0001234;
  r.rflags = 0x202 | 0x8d5 | 0x40000;  // IF, the arithmetic flags, AC
  r.cs = 0x0f;                         // LDT, RPL 3
  r.ss = 0x17;
  return r;
}

std::string why_not(const de_stub_regs& r, int signo = SIGSEGV) {
  const char* why = nullptr;
  return plausible_compat_exit(r, signo, &why) ? "" : why;
}

TEST(DeExitPlausible, StatesCompatCodeLeavesPass) {
  de_stub_regs r = genuine();
  EXPECT_EQ(why_not(r), "");
  r.cs = 0x23;  // a far transfer to the host's 32-bit selector
  r.ss = 0x2b;
  r.rflags = 0x2 | 0x200 | 0x100 | 0x4000 | 0x10000 | 0x200000;  // TF NT RF ID
  EXPECT_EQ(why_not(r), "");
  r.gpr[0] = uint64_t(-38);  // SIGSYS: the host kernel's -ENOSYS in rax
  EXPECT_EQ(why_not(r, SIGSYS), "");
}

TEST(DeExitPlausible, WhatNoCompatCodeLeavesIsRefused) {
  struct Case {
    const char* what;
    void (*change)(de_stub_regs&);
    const char* why;
  };
  const Case cases[] = {
      {"rip above 4 GiB", [](de_stub_regs& r) { r.rip = 1ull << 32; }, "rip above 4 GiB"},
      {"rax above 32 bits", [](de_stub_regs& r) { r.gpr[0] |= 1ull << 40; },
       "a general register above 32 bits"},
      {"rdi above 32 bits", [](de_stub_regs& r) { r.gpr[7] = ~0ull; },
       "a general register above 32 bits"},
      {"IF clear", [](de_stub_regs& r) { r.rflags &= ~0x200ull; }, "EFLAGS without IF or bit 1"},
      {"bit 1 clear", [](de_stub_regs& r) { r.rflags &= ~0x2ull; }, "EFLAGS without IF or bit 1"},
      {"IOPL 3", [](de_stub_regs& r) { r.rflags |= 0x3000; }, "EFLAGS bits user mode cannot hold"},
      {"VM", [](de_stub_regs& r) { r.rflags |= 0x20000; }, "EFLAGS bits user mode cannot hold"},
      {"bit 63", [](de_stub_regs& r) { r.rflags |= 1ull << 63; },
       "EFLAGS bits user mode cannot hold"},
      {"CS RPL 0", [](de_stub_regs& r) { r.cs = 0x0c; }, "a CS or SS with an RPL other than 3"},
      {"SS RPL 0", [](de_stub_regs& r) { r.ss = 0x14; }, "a CS or SS with an RPL other than 3"},
      {"the host's data selector as CS", [](de_stub_regs& r) { r.cs = 0x2b; },
       "a CS user mode cannot hold"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    de_stub_regs r = genuine();
    c.change(r);
    EXPECT_EQ(why_not(r), c.why);
  }
  de_stub_regs r = genuine();
  r.gpr[0] = uint64_t(-38);  // only SIGSYS explains a 64-bit rax
  EXPECT_EQ(why_not(r, SIGSEGV), "a general register above 32 bits");
}

}  // namespace
