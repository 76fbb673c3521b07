// Direct execution of hand-assembled ring-3 code in a real guest window: every kind of exit
// becomes the guest event the architecture defines (vector, error code, saved EIP, frame),
// guest state survives the round trip, and a host timer signal cuts a spinning guest short.
#include "hostexec/direct_exec.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/time.h>

#include <cstring>
#include <vector>

#include "hostexec/host_compat.h"
#include "hostexec/host_signals.h"
#include "shadowmmu/address_space.h"
#include "shadowmmu/direct_code.h"
#include "shadowmmu/guest_memory.h"
#include "shadowmmu/window_queue.h"

namespace {

using Exit = hostexec::DirectExec::Exit;

constexpr uint32_t kGdt = 0x1000, kIdt = 0x2000, kHandlers = 0x3000, kTss = 0x5000;
constexpr uint32_t kUserCode = 0x10000, kUserStack = 0x80000, kKernelStack = 0x90000;
constexpr uint16_t kUserCs = 0x1b, kUserDs = 0x23, kTssSel = 0x28, kSpareData = 0x33;

uint64_t descriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags) {
  return (limit & 0xffff) | (uint64_t(base & 0xffffff) << 16) | (uint64_t(access) << 40) |
         (uint64_t((limit >> 16) & 0xf) << 48) | (uint64_t(flags & 0xf) << 52) |
         (uint64_t(base >> 24) << 56);
}
uint64_t gate(uint32_t offset, uint16_t sel, uint8_t type_attr) {
  return (offset & 0xffff) | (uint64_t(sel) << 16) | (uint64_t(type_attr) << 40) |
         (uint64_t(offset >> 16) << 48);
}
uint32_t handler_for(uint8_t vector) {
  return kHandlers + vector * 16u;
}

struct NoPorts final : cpu::Ports {
  uint32_t in(uint16_t, unsigned) override { return 0xffffffff; }
  void out(uint16_t, unsigned, uint32_t) override {}
};
struct NoHooks final : cpu::Hooks {
  void paging_changed(uint32_t, uint32_t) override {}
  void cr3_written(uint32_t) override {}
  void invlpg(uint32_t) override {}
};

cpu::Vcpu* g_vcpu = nullptr;
void on_alarm(int) {
  g_vcpu->pending.async = 1;
}

// One VM-like setup for the whole suite: direct execution is one per process.
class DirectExecTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string why;
    if (!hostexec::compat_mode_available(&why))
      GTEST_SKIP() << "direct execution cannot run here: " << why;
    as_ = new shadowmmu::AddressSpace(16u << 20);
    as_->map_identity();
    v_ = new cpu::Vcpu;
    mem_ = new shadowmmu::GuestMemory(*as_, *v_);
    cpu_ = new cpu::Cpu(*v_, *mem_, ports_, hooks_);
    de_ = new hostexec::DirectExec(*cpu_, *as_);
    code_ = new shadowmmu::DirectCode(*as_, false);
    mem_->set_direct_code(code_);
    g_vcpu = v_;
    hostexec::host_signals::add_async(SIGALRM, on_alarm);
  }
  static void TearDownTestSuite() {
    if (!de_) return;
    hostexec::host_signals::remove_async(SIGALRM);
    delete de_;
    delete cpu_;
    delete mem_;
    delete code_;
    delete v_;
    delete as_;
  }

  void SetUp() override {
    if (!de_) GTEST_SKIP() << "direct execution cannot run on this host";
    // A fresh window (no page left executable) and page states for each test.
    as_->map_identity();
    delete code_;
    code_ = new shadowmmu::DirectCode(*as_, false);
    mem_->set_direct_code(code_);
    std::memset(as_->physmap(), 0, 1u << 20);
    uint64_t gdt[8] = {0,
                       descriptor(0, 0xfffff, 0x9a, 0xc),
                       descriptor(0, 0xfffff, 0x92, 0xc),
                       descriptor(0, 0xfffff, 0xfa, 0xc),
                       descriptor(0, 0xfffff, 0xf2, 0xc),
                       descriptor(kTss, 0x67, 0x89, 0),
                       descriptor(0, 0xfffff, 0xf2, 0xc),  // 0x33: a second flat user data
                       0};
    std::memcpy(as_->phys(kGdt, sizeof gdt), gdt, sizeof gdt);
    for (unsigned vec = 0; vec < 256; ++vec) {
      bool user = vec == 3 || vec == 4 || vec == 0x80;
      uint64_t g = gate(handler_for(uint8_t(vec)), 0x08, user ? 0xee : 0x8e);
      std::memcpy(as_->phys(kIdt + vec * 8, 8), &g, 8);
    }
    uint32_t esp0 = kKernelStack, ss0 = 0x10;
    std::memcpy(as_->phys(kTss + 4, 4), &esp0, 4);
    std::memcpy(as_->phys(kTss + 8, 4), &ss0, 4);

    *v_ = cpu::Vcpu{};
    cpu_->reset_multiboot(0, 0, 0);
    v_->gdtr = {kGdt, sizeof gdt - 1};
    v_->idtr = {kIdt, 256 * 8 - 1};
    ASSERT_FALSE(cpu_->ltr(kTssSel));
    enter_user(kUserCode);
  }

  void enter_user(uint32_t eip) {
    uint64_t d;
    ASSERT_FALSE(cpu_->read_descriptor(kUserCs, d));
    v_->load_segment_cache(cpu::CS, cpu::Cpu::segment_from_descriptor(kUserCs, d));
    ASSERT_FALSE(cpu_->read_descriptor(kUserDs, d));
    for (cpu::Seg s : {cpu::SS, cpu::DS, cpu::ES})
      v_->load_segment_cache(s, cpu::Cpu::segment_from_descriptor(kUserDs, d));
    v_->load_segment_cache(cpu::FS, cpu::Segment{});
    v_->load_segment_cache(cpu::GS, cpu::Segment{});
    v_->cpl = 3;
    v_->eip = eip;
    v_->gpr[cpu::ESP] = kUserStack;
    v_->write_eflags(cpu::fl::IF | cpu::fl::FIXED1);
  }

  void put_code(uint32_t at, const std::vector<uint8_t>& bytes) {
    mem_->write(at, bytes.data(), unsigned(bytes.size()), cpu::Memory::Mode::Supervisor);
  }

  // Runs until an exit other than a code-page scan.
  Exit run() {
    for (int i = 0; i < 16; ++i) {
      const char* why = nullptr;
      EXPECT_TRUE(de_->eligible(&why)) << why;
      Exit x = de_->run();
      if (x.kind != Exit::Kind::CodeFetch) return x;
      EXPECT_EQ(code_->on_fetch(x.address), shadowmmu::DirectCode::State::Direct);
    }
    ADD_FAILURE() << "code fetch faults do not stop";
    return {};
  }

  uint32_t kernel_stack(int i) {
    uint32_t w;
    mem_->read(v_->gpr[cpu::ESP] + 4 * i, &w, 4, cpu::Memory::Mode::Supervisor);
    return w;
  }

  // Expects delivery of `vector` to ring 0 with a frame returning to `eip`.
  void expect_delivered(uint8_t vector, uint32_t eip, std::optional<uint32_t> error = {}) {
    EXPECT_EQ(v_->cpl, 0);
    EXPECT_EQ(v_->eip, handler_for(vector));
    int i = 0;
    if (error) {
      EXPECT_EQ(kernel_stack(i++), *error);
    }
    EXPECT_EQ(kernel_stack(i++), eip);
    EXPECT_EQ(kernel_stack(i++), kUserCs);
    EXPECT_TRUE(kernel_stack(i++) & cpu::fl::IF);
    EXPECT_EQ(kernel_stack(i++), kUserStack);
    EXPECT_EQ(kernel_stack(i++), kUserDs);
    EXPECT_EQ(v_->gpr[cpu::ESP], kKernelStack - 4u * i);
  }

  static inline shadowmmu::AddressSpace* as_;
  static inline cpu::Vcpu* v_;
  static inline shadowmmu::GuestMemory* mem_;
  static inline NoPorts ports_;
  static inline NoHooks hooks_;
  static inline cpu::Cpu* cpu_;
  static inline hostexec::DirectExec* de_;
  static inline shadowmmu::DirectCode* code_;
};

TEST_F(DirectExecTest, Int80ReachesTheGuestGateWithRegistersIntact) {
  // mov eax,42; mov ebx,1; mov ecx,2; mov edx,3; mov esi,4; mov edi,5; mov ebp,6; int 0x80
  put_code(kUserCode, {0xb8, 42, 0, 0, 0, 0xbb, 1, 0, 0, 0, 0xb9, 2, 0, 0, 0, 0xba, 3,   0, 0, 0,
                       0xbe, 4,  0, 0, 0, 0xbf, 5, 0, 0, 0, 0xbd, 6, 0, 0, 0, 0xcd, 0x80});
  Exit x = run();
  EXPECT_EQ(x.kind, Exit::Kind::Continue);
  expect_delivered(0x80, kUserCode + 37);
  const uint32_t want[] = {42, 2, 3, 1, 0, 6, 4, 5};
  for (int r : {0, 1, 2, 3, 5, 6, 7}) EXPECT_EQ(v_->gpr[r], want[r]) << "register " << r;
  EXPECT_EQ(de_->stats().exits[size_t(hostexec::DeReason::Syscall)], 1u);
}

TEST_F(DirectExecTest, HostSystemCallsNeverRun) {
  // mov eax,20 (i386 getpid); int 0x80: the guest kernel sees 20, not a host pid.
  put_code(kUserCode, {0xb8, 20, 0, 0, 0, 0xcd, 0x80});
  run();
  expect_delivered(0x80, kUserCode + 7);
  EXPECT_EQ(v_->gpr[cpu::EAX], 20u);
  // A compat-mode syscall or sysenter enters the host kernel on some CPUs, which then loses the
  // guest's return address: a page with either never runs directly (the translator gives what
  // the CPU model defines; the Pentium III has no SYSCALL). The old code stopped the VM.
  for (std::vector<uint8_t> insn : {std::vector<uint8_t>{0x0f, 0x05}, {0x0f, 0x34}}) {
    enter_user(kUserCode + 0x100);
    std::vector<uint8_t> code{0xb8, 20, 0, 0, 0};
    code.insert(code.end(), insn.begin(), insn.end());
    put_code(kUserCode + 0x100, code);
    Exit x = de_->run();
    ASSERT_EQ(x.kind, Exit::Kind::CodeFetch);
    EXPECT_EQ(code_->on_fetch(x.address), shadowmmu::DirectCode::State::Translate);
  }
}

TEST_F(DirectExecTest, IntThroughAKernelOnlyGateIsGpWithIdtErrorCode) {
  put_code(kUserCode, {0x90, 0xcd, 0x41});  // nop; int 0x41
  run();
  expect_delivered(cpu::kGP, kUserCode + 1, 0x41 * 8 + 2);
}

TEST_F(DirectExecTest, FaultsReportTheFaultingInstruction) {
  put_code(kUserCode, {0x31, 0xc9, 0xf7, 0xf1});  // xor ecx,ecx; div ecx
  run();
  expect_delivered(cpu::kDE, kUserCode + 2);

  enter_user(kUserCode + 0x100);
  put_code(kUserCode + 0x100, {0x90, 0x0f, 0x0b});  // nop; ud2
  run();
  expect_delivered(cpu::kUD, kUserCode + 0x101);
}

TEST_F(DirectExecTest, TrapsReportTheNextInstruction) {
  put_code(kUserCode, {0x90, 0xcc});  // nop; int3
  run();
  expect_delivered(cpu::kBP, kUserCode + 2);

  enter_user(kUserCode + 0x100);
  // mov al,0x7f; add al,1 (OF=1); into
  put_code(kUserCode + 0x100, {0xb0, 0x7f, 0x04, 0x01, 0xce});
  run();
  expect_delivered(cpu::kOF, kUserCode + 0x105);
}

// EFLAGS.TF runs on the host CPU: one instruction, then the host's single-step trap is the
// guest's #DB (a trap: the frame holds the next EIP and still has TF) with DR6.BS.
TEST_F(DirectExecTest, TrapFlagSingleStepsOneInstruction) {
  put_code(kUserCode, {0x90, 0x90});  // nop; nop
  v_->write_eflags(cpu::fl::IF | cpu::fl::TF | cpu::fl::FIXED1);
  v_->dr[6] = cpu::dr6::FIXED1;
  run();
  expect_delivered(cpu::kDB, kUserCode + 1);
  EXPECT_TRUE(kernel_stack(2) & cpu::fl::TF);
  EXPECT_EQ(v_->dr[6], cpu::dr6::FIXED1 | cpu::dr6::BS);
}

// A popf that sets TF is not stepped itself: the #DB comes after the instruction that follows.
TEST_F(DirectExecTest, PopfSettingTrapFlagStepsFromTheNextInstruction) {
  // pushf; or dword [esp], 0x100; popf; nop; nop
  put_code(kUserCode, {0x9c, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, 0x9d, 0x90, 0x90});
  v_->dr[6] = cpu::dr6::FIXED1;
  run();
  expect_delivered(cpu::kDB, kUserCode + 10);
  EXPECT_EQ(v_->dr[6], cpu::dr6::FIXED1 | cpu::dr6::BS);
}

TEST_F(DirectExecTest, PrivilegedAndIoInstructionsGoToTheTranslator) {
  for (std::vector<uint8_t> insn : {std::vector<uint8_t>{0xf4},
                                    {0xfa},
                                    {0xe4, 0x80},
                                    {0xe6, 0x80},
                                    {0x0f, 0x01, 0x15, 0, 0, 0, 0}}) {
    enter_user(kUserCode + 0x200);
    std::vector<uint8_t> code{0x90};
    code.insert(code.end(), insn.begin(), insn.end());
    put_code(kUserCode + 0x200, code);
    Exit x = run();
    EXPECT_EQ(x.kind, Exit::Kind::Translate) << "opcode " << int(insn[0]);
    EXPECT_EQ(v_->cpl, 3);
    EXPECT_EQ(v_->eip, kUserCode + 0x201);
  }
}

TEST_F(DirectExecTest, FlagsAndExtendedStateSurviveTheMonitor) {
  // mov eax,0x1234; movd xmm0,eax; stc; std; int 0x80
  put_code(kUserCode, {0xb8, 0x34, 0x12, 0, 0, 0x66, 0x0f, 0x6e, 0xc0, 0xf9, 0xfd, 0xcd, 0x80});
  run();
  EXPECT_TRUE(kernel_stack(2) & cpu::fl::CF);
  EXPECT_TRUE(kernel_stack(2) & cpu::fl::DF);
  // The monitor's own code runs here (gtest, memcpy with SSE); then: movd ebx,xmm0; int 0x80
  enter_user(kUserCode + 0x100);
  put_code(kUserCode + 0x100, {0x66, 0x0f, 0x7e, 0xc3, 0xcd, 0x80});
  run();
  EXPECT_EQ(v_->gpr[cpu::EBX], 0x1234u);
}

TEST_F(DirectExecTest, SilentlyAcceptedSelectorIsFixedUpOnItsFirstFaultingUse) {
  // mov eax,0x33; mov ds,eax; mov [0x20000],eax; int 0x80. Host 0x33 is its 64-bit code
  // segment: the load succeeds, and on hardware the write faults (QEMU's TCG lets it pass);
  // either way the guest's own 0x33, writable data, must be in DS by the time int 0x80 is.
  put_code(kUserCode, {0xb8, 0x33, 0, 0, 0, 0x8e, 0xd8, 0xa3, 0, 0, 2, 0, 0xcd, 0x80});
  const uint64_t fixups = de_->stats().exits[size_t(hostexec::DeReason::SegmentFixup)];
  Exit x = run();
  if (v_->cpl == 3) {  // the faulting write came back first, to be run again
    EXPECT_EQ(x.kind, Exit::Kind::Continue);
    EXPECT_EQ(v_->eip, kUserCode + 7);
    run();
  }
  expect_delivered(0x80, kUserCode + 14);
  EXPECT_EQ(v_->seg[cpu::DS].sel, kSpareData);
  EXPECT_EQ(de_->stats().exits[size_t(hostexec::DeReason::SegmentFixup)], fixups + 1);
  uint32_t stored;
  mem_->read(0x20000, &stored, 4, cpu::Memory::Mode::Supervisor);
  EXPECT_EQ(stored, 0x33u);
}

TEST_F(DirectExecTest, SilentlyAcceptedBadSelectorBecomesGuestGp) {
  // mov eax,0x2b; mov ds,eax; int 0x80: the guest's 0x28 is its TSS, so the load must fail.
  put_code(kUserCode, {0xb8, 0x2b, 0, 0, 0, 0x8e, 0xd8, 0xcd, 0x80});
  run();
  EXPECT_EQ(v_->cpl, 0);
  EXPECT_EQ(v_->eip, handler_for(cpu::kGP));
  EXPECT_EQ(kernel_stack(0), 0x28u);
}

TEST_F(DirectExecTest, WriteToExecutingCodePageIsSeen) {
  // Page kUserCode + 0x1000 has run directly (so it is executable and read-only)...
  put_code(kUserCode + 0x1000, {0xcd, 0x80});
  enter_user(kUserCode + 0x1000);
  run();
  expect_delivered(0x80, kUserCode + 0x1002);
  // ...then code on another page writes to it: mov byte [kUserCode+0x1040],0x90; int 0x80
  put_code(kUserCode, {0xc6, 0x05, 0x40, 0x10, 1, 0, 0x90, 0xcd, 0x80});
  enter_user(kUserCode);
  Exit x = run();
  ASSERT_EQ(x.kind, Exit::Kind::CodeWrite);
  EXPECT_EQ(x.address, kUserCode + 0x1040);
  EXPECT_TRUE(code_->on_write(x.address, kUserCode));
  EXPECT_EQ(code_->state(kUserCode + 0x1000), shadowmmu::DirectCode::State::Unscanned);
  run();
  expect_delivered(0x80, kUserCode + 9);
  uint8_t b;
  mem_->read(kUserCode + 0x1040, &b, 1, cpu::Memory::Mode::Supervisor);
  EXPECT_EQ(b, 0x90);
}

TEST_F(DirectExecTest, CodeThatWritesItsOwnPageGoesToTheTranslator) {
  // mov byte [kUserCode+0x40],0x90 (its own page); int 0x80
  put_code(kUserCode, {0xc6, 0x05, 0x40, 0, 1, 0, 0x90, 0xcd, 0x80});
  Exit x = run();
  ASSERT_EQ(x.kind, Exit::Kind::CodeWrite);
  EXPECT_TRUE(code_->on_write(x.address, kUserCode));
  EXPECT_EQ(code_->state(kUserCode), shadowmmu::DirectCode::State::Translate);
  EXPECT_EQ(v_->eip, kUserCode);  // the write has not happened: the translator will run it
}

TEST_F(DirectExecTest, CpuidPagesStayWithTheTranslator) {
  put_code(kUserCode + 0x3000, {0x0f, 0xa2, 0xcd, 0x80});  // cpuid; int 0x80
  enter_user(kUserCode + 0x3000);
  Exit x = de_->run();
  ASSERT_EQ(x.kind, Exit::Kind::CodeFetch);
  EXPECT_EQ(code_->on_fetch(x.address), shadowmmu::DirectCode::State::Translate);
}

TEST_F(DirectExecTest, TimerSignalPreemptsASpinningGuest) {
  put_code(kUserCode, {0xeb, 0xfe});  // jmp $
  itimerval t{};
  t.it_value.tv_usec = 20000;
  setitimer(ITIMER_REAL, &t, nullptr);
  Exit x = run();
  EXPECT_EQ(x.kind, Exit::Kind::Event);
  EXPECT_EQ(v_->eip, kUserCode);
  EXPECT_EQ(v_->cpl, 3);
  v_->pending.async = 0;
}

TEST_F(DirectExecTest, IneligibleStatesSayWhy) {
  const char* why = nullptr;
  v_->set_if(false);
  EXPECT_FALSE(de_->eligible(&why));
  EXPECT_STREQ(why, "virtual IF = 0");
  v_->set_if(true);
  v_->cpl = 0;
  EXPECT_FALSE(de_->eligible(&why));
  EXPECT_STREQ(why, "CPL is not 3");
  v_->cpl = 3;
  v_->cr0 |= cpu::cr0::TS;
  EXPECT_FALSE(de_->eligible(&why));
  EXPECT_STREQ(why, "CR0.TS or CR0.EM set");
  v_->cr0 &= ~cpu::cr0::TS;
  EXPECT_TRUE(de_->eligible(&why)) << why;
}

// A far transfer to the host's 64-bit code selector runs guest bytes as 64-bit code inside
// bt86 (the shared-process hole, SECURITY.md). Until direct execution has its own process, what
// the monitor can do is never return into such code: any signal from it (its fault, a timer
// tick, SIGTERM) ends direct execution with an escape report. The old code crashed on the
// fault (an unclaimed SIGILL) and went back into the spin loop on every tick (a hang).
TEST_F(DirectExecTest, FaultInCodeReachedThroughTheHost64BitSelectorStopsTheVm) {
  // jmp far 0x33:kUserCode+0x10; at +0x10 (64-bit code): ud2
  put_code(kUserCode, {0xea, 0x10, 0, 1, 0, 0x33, 0});
  put_code(kUserCode + 0x10, {0x0f, 0x0b});
  Exit x = run();
  ASSERT_EQ(x.kind, Exit::Kind::Escape);
  EXPECT_NE(x.what.find("64-bit"), std::string::npos) << x.what;
}

TEST_F(DirectExecTest, SpinInCodeReachedThroughTheHost64BitSelectorEndsAtTheNextSignal) {
  // jmp far 0x33:kUserCode+0x10; at +0x10 (64-bit code): jmp $
  put_code(kUserCode, {0xea, 0x10, 0, 1, 0, 0x33, 0});
  put_code(kUserCode + 0x10, {0xeb, 0xfe});
  // A tick that lands before the code was entered (while the window is mirrored, its mapping
  // calls approved one by one) is an Event: enter again until one lands in the spin.
  Exit x;
  for (int tries = 0; tries < 50; ++tries) {
    itimerval t{};
    t.it_value.tv_usec = 20000;
    setitimer(ITIMER_REAL, &t, nullptr);
    x = run();
    if (x.kind != Exit::Kind::Event) break;
    v_->pending.async = 0;
  }
  EXPECT_EQ(x.kind, Exit::Kind::Escape);
  v_->pending.async = 0;
  // Direct execution still works afterwards (segments, FS base and FPU state were restored).
  enter_user(kUserCode + 0x100);
  put_code(kUserCode + 0x100, {0xcd, 0x80});
  run();
  expect_delivered(0x80, kUserCode + 0x102);
}

// wrpkru (and xrstor, which can load PKRU) would set the host's protection-key rights, which
// the host kernel applies when it writes a signal frame; the Pentium III has neither. A page
// holding one never runs directly (the translator raises #UD). The old code ran it: with write
// access to key 0 taken away the next trap could not be delivered and the process died.
TEST_F(DirectExecTest, WrpkruNeverRunsDirectly) {
  // mov eax,2 (key 0: write-disable); xor ecx,ecx; xor edx,edx; wrpkru; int 0x80
  put_code(kUserCode, {0xb8, 2, 0, 0, 0, 0x31, 0xc9, 0x31, 0xd2, 0x0f, 0x01, 0xef, 0xcd, 0x80});
  Exit x = de_->run();
  ASSERT_EQ(x.kind, Exit::Kind::CodeFetch);
  EXPECT_EQ(code_->on_fetch(x.address), shadowmmu::DirectCode::State::Translate);
}

// bound with an index outside its bounds is #BR at the instruction. The old code stopped the VM
// ("host trap 5").
TEST_F(DirectExecTest, BoundOutOfRangeIsBr) {
  // mov eax,100; bound eax,[kUserCode+0x100] (bounds 0..10); int 0x80
  put_code(kUserCode, {0xb8, 100, 0, 0, 0, 0x62, 0x05, 0, 1, 1, 0, 0xcd, 0x80});
  put_code(kUserCode + 0x100, {0, 0, 0, 0, 10, 0, 0, 0});
  run();
  expect_delivered(cpu::kBR, kUserCode + 5);
}

// EFLAGS.AC set by user code (popf) with an unaligned access: #AC(0) only when the guest's
// CR0.AM is set; otherwise the access happens (the translator runs it). Either way the guest's
// AC survives the exit. The old code stopped the VM on the host's #AC ("no RAM at 0"), and lost
// AC at every exit. (QEMU's TCG does not check alignment: then the access just happens.)
TEST_F(DirectExecTest, AlignmentCheckFollowsTheGuestsCr0Am) {
  // pushf; or dword [esp],0x40000; popf; mov eax,[kUserStack-0x101]; int 0x80
  const std::vector<uint8_t> code{0x9c, 0x81, 0x0c, 0x24, 0, 0, 4,    0,
                                  0x9d, 0xa1, 0xff, 0xfe, 7, 0, 0xcd, 0x80};
  const uint32_t load = kUserCode + 9;
  for (bool am : {false, true}) {
    SCOPED_TRACE(am ? "CR0.AM set" : "CR0.AM clear");
    enter_user(kUserCode);
    v_->cr0 = am ? v_->cr0 | cpu::cr0::AM : v_->cr0 & ~cpu::cr0::AM;
    put_code(kUserCode, code);
    Exit x = run();
    if (v_->cpl == 3) {  // the host's #AC, for the translator to run without it
      EXPECT_FALSE(am);
      EXPECT_EQ(x.kind, Exit::Kind::Translate);
      EXPECT_EQ(v_->eip, load);
      EXPECT_TRUE(v_->eflags & cpu::fl::AC);
    } else if (v_->eip == handler_for(cpu::kAC)) {
      EXPECT_TRUE(am);
      expect_delivered(cpu::kAC, load, 0);
    } else {  // no alignment check on this CPU
      expect_delivered(0x80, kUserCode + 16);
      EXPECT_TRUE(kernel_stack(2) & cpu::fl::AC);
    }
  }
}

// mov ss with a selector the host GDT accepts silently (0x2b, its flat data) must be checked
// against the guest's own descriptor, as DS..GS are: here the guest's 0x28 is its TSS, so #GP.
// The old code kept the host's segment and the guest never saw the fault.
TEST_F(DirectExecTest, SilentlyAcceptedStackSelectorIsReconciled) {
  // mov eax,0x2b; mov ss,eax; int 0x80
  put_code(kUserCode, {0xb8, 0x2b, 0, 0, 0, 0x8e, 0xd0, 0xcd, 0x80});
  run();
  EXPECT_EQ(v_->cpl, 0);
  EXPECT_EQ(v_->eip, handler_for(cpu::kGP));
  EXPECT_EQ(kernel_stack(0), 0x28u);
}

// A far transfer to a host code selector the host accepts (0x23, its 32-bit user code) behaves
// as the guest's descriptor says: the guest's 0x20 is data, so #GP(0x20) (reported at the exit,
// like a silently accepted data-segment load). The old code stopped the VM.
TEST_F(DirectExecTest, FarJumpToAHost32BitSelectorFollowsTheGuestDescriptor) {
  // jmp far 0x23:kUserCode+0x10; at +0x10: int 0x80
  put_code(kUserCode, {0xea, 0x10, 0, 1, 0, 0x23, 0});
  put_code(kUserCode + 0x10, {0xcd, 0x80});
  Exit x = run();
  EXPECT_EQ(x.kind, Exit::Kind::Continue);
  EXPECT_EQ(v_->cpl, 0);
  EXPECT_EQ(v_->eip, handler_for(cpu::kGP));
  EXPECT_EQ(kernel_stack(0), 0x20u);
}

}  // namespace

// Window changes the queue cannot fold (multi-page protections) pile up between entries; past
// its limit the next entry rebuilds the direct-execution process's window from scratch (paging
// off: the identity map and the page states) instead of sending them all, and guest code runs
// as before.
TEST_F(DirectExecTest, ALongWindowQueueIsReplacedByAFreshWindow) {
  const uint64_t sent = de_->stats().window_changes;
  for (size_t i = 0; i <= shadowmmu::WindowQueue::kResyncAt; ++i)
    ASSERT_TRUE(as_->protect_pages(0x200000, 2, i % 2 ? PROT_READ : PROT_READ | PROT_WRITE,
                                   shadowmmu::Ring3::Allowed));
  put_code(kUserCode, {0xb8, 7, 0, 0, 0, 0xcd, 0x80});  // mov eax, 7; int 0x80
  EXPECT_EQ(run().kind, Exit::Kind::Continue);
  expect_delivered(0x80, kUserCode + 7);
  EXPECT_EQ(v_->gpr[cpu::EAX], 7u);
  EXPECT_LT(de_->stats().window_changes - sent, 1000u);
}
