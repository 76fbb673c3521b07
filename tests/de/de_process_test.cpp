// The confined direct-execution process (hostexec/de_process.h, hostexec/de_stub/): its address
// space holds only the stub, the control page and the window mappings asked for; window
// commands change exactly those; any system call from code running in it but the stub's own
// checked mapping and futex calls kills it (SIGSYS), and the monitor sees and reports the death.
// Code here is 64-bit, entered with the host's selector 0x33: this host cannot run compat-mode
// code, and 64-bit code is what an escaped guest would run. Every way it comes back (faults,
// traps, i386 system calls, kicks) is an exit record the monitor checks.
#include "hostexec/de_process.h"

#include <asmjit/x86.h>
#include <cpuid.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "de_stub_abi.h"
#include "proc_maps.h"

namespace {

using hostexec::DeProcess;
using namespace asmjit;

constexpr uint64_t kRamSize = 16 << 20;
constexpr uint64_t kCodeAt = 0x10000;   // window address of test code (RAM offset 0)
constexpr uint64_t kDataAt = 0x100000;  // window address of test data (RAM offset 1 MiB)
constexpr uint64_t kDataOffset = 1 << 20;
constexpr uint64_t kStubSpan = 1 << 20;  // the stub's image is far smaller

using de_test::find_at;
using de_test::Mapping;
using de_test::maps_of;

std::set<int> fds_of(pid_t pid) {
  std::set<int> fds;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') fds.insert(std::stoi(e->d_name));
    closedir(d);
  }
  return fds;
}

std::string fd_target(pid_t pid, int fd) {
  char buf[256] = {};
  const std::string link = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd);
  const ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, size_t(n)) : "";
}

std::string status_field(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) return line.substr(key.size() + 1);
  return "";
}

class DeProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ram_fd_ = memfd_create("bt86-test-ram", MFD_CLOEXEC);
    ASSERT_GE(ram_fd_, 0);
    ASSERT_EQ(ftruncate(ram_fd_, kRamSize), 0);
    void* p = mmap(nullptr, kRamSize, PROT_READ | PROT_WRITE, MAP_SHARED, ram_fd_, 0);
    ASSERT_NE(p, MAP_FAILED);
    ram_ = static_cast<uint8_t*>(p);
    char dir[] = "/tmp/bt86-de-process-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    canary_ = dir_ + "/canary";
  }
  void TearDown() override {
    unlink(canary_.c_str());
    rmdir(dir_.c_str());
    if (ram_) munmap(ram_, kRamSize);
    if (ram_fd_ >= 0) close(ram_fd_);
  }

  // Assembles 64-bit code into RAM offset 0, to run at kCodeAt.
  void code(const std::function<void(x86::Assembler&)>& body) {
    CodeHolder holder;
    holder.init(Environment(Arch::kX64), kCodeAt);
    x86::Assembler a(&holder);
    body(a);
    holder.flatten();
    ASSERT_LE(holder.codeSize(), kDataOffset);
    holder.copyFlattenedData(ram_, holder.codeSize());
  }

  // Code that marks kDataAt with 1, then spins; returns the spin loop's offset.
  static uint64_t emit_spin(x86::Assembler& a) {
    Label spin = a.newLabel();
    a.mov(x86::rcx, kDataAt);
    a.mov(x86::dword_ptr(x86::rcx), 1);
    a.bind(spin);
    const uint64_t loop = a.offset();
    a.jmp(spin);
    return loop;
  }

  // Runs `act` on another thread once emit_spin's code has marked kDataAt, or never if the
  // scope ends first; leaving the scope waits for the thread.
  class WhenSpinning {
   public:
    WhenSpinning(uint8_t* ram, std::function<void()> act)
        : thread_([this, ram, act = std::move(act)] {
            std::atomic_ref<uint8_t> started(ram[kDataOffset]);
            while (started.load() != 1 && !over_.load()) std::this_thread::yield();
            if (!over_.load()) act();
          }) {}
    ~WhenSpinning() {
      over_ = true;
      thread_.join();
    }

   private:
    std::atomic<bool> over_{false};
    std::thread thread_;
  };

  // Maps test code (R-X) and data (RW-) into the child's window.
  void map_code_and_data(DeProcess& p) {
    ASSERT_EQ(p.map(kCodeAt, 0, 0x10000, PROT_READ | PROT_EXEC), 0);
    ASSERT_EQ(p.map(kDataAt, kDataOffset, 0x10000, PROT_READ | PROT_WRITE), 0);
  }

  // Code that makes system call `nr` with `args` through the stub's own `syscall` instruction,
  // stores its result at kDataAt and returns.
  void syscall_via_stub(DeProcess& p, long nr, std::vector<uint64_t> args) {
    args.resize(6, 0);
    const uint64_t insn = p.syscall_address();
    code([&](x86::Assembler& a) {
      a.mov(x86::rax, nr);
      a.mov(x86::rdi, args[0]);
      a.mov(x86::rsi, args[1]);
      a.mov(x86::rdx, args[2]);
      a.mov(x86::r10, args[3]);
      a.mov(x86::r8, args[4]);
      a.mov(x86::r9, args[5]);
      a.mov(x86::r11, insn);
      a.call(x86::r11);
      a.mov(x86::rcx, kDataAt);
      a.mov(x86::qword_ptr(x86::rcx), x86::rax);
      a.ud2();
    });
  }

  int64_t result_word() const {
    int64_t v;
    std::memcpy(&v, ram_ + kDataOffset, 8);
    return v;
  }

  // Enters the code at kCodeAt as 64-bit code with a stack at the top of the data pages.
  DeProcess::Exit run(DeProcess& p, DeProcess::Regs* in_out = nullptr) {
    DeProcess::Regs r;
    if (in_out) r = *in_out;
    r.rip = in_out && in_out->rip ? in_out->rip : kCodeAt;
    r.cs = DE_HOST_CS64;
    r.ss = DE_HOST_DS;
    if (!r.gpr[4]) r.gpr[4] = kDataAt + 0x10000;
    const DeProcess::Exit x = p.enter(r, fpu_);
    if (in_out) *in_out = r;
    last_rip_ = r.rip;
    return x;
  }
  // Code that ran to its end (ud2, the tests' "return").
  void expect_end(DeProcess& p) {
    const DeProcess::Exit x = run(p);
    EXPECT_EQ(x.kind, DeProcess::Exit::Kind::Trap);
    EXPECT_EQ(x.signo, SIGILL) << "trap " << x.trapno << " at " << std::hex << last_rip_;
  }

  // Runs the code; expects the stub to die with `sig`, reported both ways.
  void expect_death(DeProcess& p, int sig) {
    try {
      run(p);
      ADD_FAILURE() << "the code ran to its end; the process should have died";
    } catch (const DeProcess::Died& d) {
      EXPECT_EQ(d.death.signal, sig) << d.what();
    }
    ASSERT_TRUE(p.death().has_value());
    EXPECT_EQ(p.death()->signal, sig);
    EXPECT_FALSE(p.alive());
    EXPECT_THROW(p.ping(), DeProcess::Died);
  }

  bool canary_exists() const { return access(canary_.c_str(), F_OK) == 0; }

  int ram_fd_ = -1;
  uint8_t* ram_ = nullptr;
  uint8_t fpu_[512] = {0x7f, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0,    0,   0, 0,
                       0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x1f};  // FCW 0x37f, MXCSR 0x1f80
  uint64_t last_rip_ = 0;
  std::string dir_, canary_;
};

TEST_F(DeProcessTest, AddressSpaceHoldsOnlyStubControlPageAndWindow) {
  DeProcess p(ram_fd_);
  ASSERT_EQ(p.map(0x200000, 0x3000, 0x5000, PROT_READ | PROT_EXEC), 0);
  const std::vector<Mapping> maps = maps_of(p.pid());
  ASSERT_FALSE(maps.empty());
  bool saw_stub_code = false, saw_control = false, saw_window = false;
  for (const Mapping& m : maps) {
    SCOPED_TRACE(m.path);
    if (m.start >= DE_STUB_BASE && m.end <= DE_STUB_BASE + kStubSpan) {
      saw_stub_code |= m.perms == "r-xp";
    } else if (m.start == DE_STUB_CONTROL) {
      saw_control = true;
      EXPECT_EQ(m.end, DE_STUB_CONTROL + 4096);
      EXPECT_EQ(m.perms, "rw-s");
      EXPECT_NE(m.path.find("bt86-de-control"), std::string::npos);
    } else if (m.start == 0x200000) {
      saw_window = true;
      EXPECT_EQ(m.end, 0x205000u);
      EXPECT_EQ(m.perms, "r-xs");
      EXPECT_EQ(m.offset, 0x3000u);
      EXPECT_NE(m.path.find("bt86-test-ram"), std::string::npos);
    } else if (m.path == "[vsyscall]") {
      // The kernel's fixed page: not a mapping of the process, cannot be unmapped. Its
      // emulated calls go through the seccomp filter (VsyscallIsFiltered).
    } else {
      ADD_FAILURE() << "unexpected mapping " << std::hex << m.start << "-" << m.end << " "
                    << m.perms << " " << m.path;
    }
  }
  EXPECT_TRUE(saw_stub_code);
  EXPECT_TRUE(saw_control);
  EXPECT_TRUE(saw_window);
  // Only guest RAM and the filter's listener stay open; the filter is in force.
  std::set<int> fds = fds_of(p.pid());
  EXPECT_EQ(fds.erase(DE_STUB_RAM_FD), 1u);
  ASSERT_EQ(fds.size(), 1u);
  EXPECT_EQ(fd_target(p.pid(), *fds.begin()), "anon_inode:seccomp notify");
  EXPECT_EQ(status_field(p.pid(), "Seccomp").find('2') != std::string::npos, true)
      << status_field(p.pid(), "Seccomp");
  EXPECT_EQ(status_field(p.pid(), "NoNewPrivs").find('1') != std::string::npos, true);
  EXPECT_GE(p.syscall_address(), DE_STUB_BASE);
  EXPECT_TRUE(p.alive());
}

TEST_F(DeProcessTest, MapProtectUnmapChangeTheWindow) {
  DeProcess p(ram_fd_);
  ASSERT_EQ(p.map(kCodeAt, 0, 0x10000, PROT_READ | PROT_EXEC), 0);
  ASSERT_EQ(p.map(0x400000, 0x200000, 0x2000, PROT_READ | PROT_WRITE), 0);
  const std::optional<Mapping> m = find_at(maps_of(p.pid()), 0x400000);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->perms, "rw-s");
  EXPECT_EQ(m->offset, 0x200000u);
  // A store by code in the child lands in guest RAM at the mapped offset.
  code([](x86::Assembler& a) {
    a.mov(x86::rcx, 0x401008);
    a.mov(x86::dword_ptr(x86::rcx), 0x5eedf00d);
    a.ud2();
  });
  expect_end(p);
  uint32_t v;
  std::memcpy(&v, ram_ + 0x201008, 4);
  EXPECT_EQ(v, 0x5eedf00du);

  ASSERT_EQ(p.protect(0x401000, 0x1000, PROT_READ), 0);
  auto maps = maps_of(p.pid());
  ASSERT_TRUE(find_at(maps, 0x400000).has_value());
  EXPECT_EQ(find_at(maps, 0x400000)->perms, "rw-s");
  ASSERT_TRUE(find_at(maps, 0x401000).has_value());
  EXPECT_EQ(find_at(maps, 0x401000)->perms, "r--s");

  ASSERT_EQ(p.unmap(0x400000, 0x1000), 0);
  maps = maps_of(p.pid());
  EXPECT_FALSE(find_at(maps, 0x400000).has_value());
  EXPECT_TRUE(find_at(maps, 0x401000).has_value());
  EXPECT_TRUE(p.alive());
}

TEST_F(DeProcessTest, StoreToReadOnlyWindowComesBackAsAFault) {
  DeProcess p(ram_fd_);
  map_code_and_data(p);
  ASSERT_EQ(p.protect(kDataAt, 0x1000, PROT_READ), 0);
  uint64_t store = 0;
  code([&](x86::Assembler& a) {
    a.mov(x86::rcx, kDataAt + 8);
    store = a.offset();
    a.mov(x86::dword_ptr(x86::rcx), 1);
  });
  const DeProcess::Exit x = run(p);
  EXPECT_EQ(x.kind, DeProcess::Exit::Kind::Trap);
  EXPECT_EQ(x.signo, SIGSEGV);
  EXPECT_EQ(x.trapno, 14);
  EXPECT_EQ(x.addr, kDataAt + 8);
  EXPECT_EQ(x.err & 2, 2u);  // a write
  EXPECT_EQ(last_rip_, kCodeAt + store);
  EXPECT_EQ(x.code, SEGV_ACCERR);
  EXPECT_EQ(ram_[kDataOffset + 8], 0);
  EXPECT_TRUE(p.alive());
  p.ping();
}

TEST_F(DeProcessTest, UnmappedWindowComesBackAsAFault) {
  DeProcess p(ram_fd_);
  map_code_and_data(p);
  ASSERT_EQ(p.unmap(kDataAt, 0x10000), 0);
  uint64_t load = 0;
  code([&](x86::Assembler& a) {
    a.mov(x86::rcx, kDataAt + 0x20);
    load = a.offset();
    a.mov(x86::eax, x86::dword_ptr(x86::rcx));
  });
  DeProcess::Regs r;
  r.gpr[4] = 0x8000;  // somewhere the code never touches
  const DeProcess::Exit x = run(p, &r);
  EXPECT_EQ(x.kind, DeProcess::Exit::Kind::Trap);
  EXPECT_EQ(x.signo, SIGSEGV);
  EXPECT_EQ(x.addr, kDataAt + 0x20);
  EXPECT_EQ(x.code, SEGV_MAPERR);
  EXPECT_EQ(r.rip, kCodeAt + load);
}

// The escape issue 12 describes, from 64-bit code: a host system call of its own.
TEST_F(DeProcessTest, HostSystemCallFromGuestCodeKillsWithSigsys) {
  DeProcess p(ram_fd_);
  map_code_and_data(p);
  std::memcpy(ram_ + kDataOffset + 0x100, canary_.c_str(), canary_.size() + 1);
  code([](x86::Assembler& a) {
    a.mov(x86::eax, SYS_openat);
    a.mov(x86::rdi, AT_FDCWD);
    a.mov(x86::rsi, kDataAt + 0x100);
    a.mov(x86::edx, O_CREAT | O_WRONLY);
    a.mov(x86::r10d, 0644);
    a.syscall();
    a.ud2();
  });
  expect_death(p, SIGSYS);
  EXPECT_FALSE(canary_exists());
  EXPECT_NE(std::string(DeProcess::Died(*p.death()).what()).find("SIGSYS"), std::string::npos);
}

// Even a call the filter allows from the stub's instruction dies when made from anywhere else.
TEST_F(DeProcessTest, AllowedCallFromAnotherSyscallInstructionKillsWithSigsys) {
  DeProcess p(ram_fd_);
  map_code_and_data(p);
  code([](x86::Assembler& a) {
    a.mov(x86::eax, SYS_munmap);
    a.mov(x86::rdi, kDataAt);
    a.mov(x86::esi, 0x1000);
    a.syscall();
    a.mov(x86::rcx, kDataAt + 0x1000);
    a.mov(x86::qword_ptr(x86::rcx), x86::rax);
    a.ud2();
  });
  expect_death(p, SIGSYS);
  EXPECT_EQ(ram_[kDataOffset + 0x1000], 0);
}

TEST_F(DeProcessTest, OtherSystemCallsThroughTheStubsInstructionKillWithSigsys) {
  DeProcess p(ram_fd_);
  map_code_and_data(p);
  std::memcpy(ram_ + kDataOffset + 0x100, canary_.c_str(), canary_.size() + 1);
  syscall_via_stub(p, SYS_openat, {uint64_t(AT_FDCWD), kDataAt + 0x100, O_CREAT | O_WRONLY, 0644});
  expect_death(p, SIGSYS);
  EXPECT_FALSE(canary_exists());
}

// The calls the filter allows, with arguments it must refuse: each kills a fresh process.
TEST_F(DeProcessTest, CheckedArgumentsOutsideTheRulesKillWithSigsys) {
  const uint64_t kShared = MAP_SHARED | MAP_FIXED, kRw = PROT_READ | PROT_WRITE;
  const uint64_t kSeq = DE_STUB_CONTROL + offsetof(de_stub_control, seq);
  struct Case {
    const char* what;
    long nr;
    std::vector<uint64_t> args;
  };
  const Case cases[] = {
      {"mmap at 8 GiB", SYS_mmap, {DE_WINDOW_END, 0x1000, kRw, kShared, DE_STUB_RAM_FD, 0}},
      {"mmap across 8 GiB",
       SYS_mmap,
       {DE_WINDOW_END - 0x1000, 0x2000, kRw, kShared, DE_STUB_RAM_FD, 0}},
      {"mmap whose end needs the low-half carry",
       SYS_mmap,
       {0xfffff000, 0x100002000, kRw, kShared, DE_STUB_RAM_FD, 0}},
      {"mmap with a huge length",
       SYS_mmap,
       {0x100000, ~0ull & ~0xfffull, kRw, kShared, DE_STUB_RAM_FD, 0}},
      {"anonymous mmap",
       SYS_mmap,
       {0x100000, 0x1000, kRw, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, ~0ull, 0}},
      {"private mmap of RAM",
       SYS_mmap,
       {0x100000, 0x1000, kRw, MAP_PRIVATE | MAP_FIXED, DE_STUB_RAM_FD, 0}},
      {"mmap of another descriptor", SYS_mmap, {0x100000, 0x1000, kRw, kShared, 0, 0}},
      {"mmap with PROT_GROWSDOWN",
       SYS_mmap,
       {0x100000, 0x1000, kRw | PROT_GROWSDOWN, kShared, DE_STUB_RAM_FD, 0}},
      {"mprotect of the stub's image",
       SYS_mprotect,
       {DE_STUB_BASE, 0x1000, PROT_READ | PROT_WRITE | PROT_EXEC}},
      {"munmap of the control page", SYS_munmap, {DE_STUB_CONTROL, 0x1000}},
      {"munmap of everything", SYS_munmap, {0, 0x7ffffffff000}},
      {"futex on a window address", SYS_futex, {kDataAt, FUTEX_WAKE, 1}},
      {"futex requeue on the control page", SYS_futex, {kSeq, FUTEX_CMP_REQUEUE, 1, 0, kSeq}},
      {"getpid", SYS_getpid, {}},
      {"exit (not exit_group)", SYS_exit, {0}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    DeProcess p(ram_fd_);
    map_code_and_data(p);
    syscall_via_stub(p, c.nr, c.args);
    expect_death(p, SIGSYS);
  }
}

// The same instruction and calls with arguments inside the rules go through: the filter is not
// simply killing everything. (mmap, and mprotect granting access, inside the rules:
// MappingCallsNobodyAskedFor.)
TEST_F(DeProcessTest, CheckedArgumentsInsideTheRulesAreAllowed) {
  const uint64_t kDone = DE_STUB_CONTROL + offsetof(de_stub_control, done);
  DeProcess p(ram_fd_);
  map_code_and_data(p);
  // The last page below 8 GiB: the sum of address and length is exactly the limit.
  ASSERT_EQ(p.map(DE_WINDOW_END - 0x1000, 0x2000, 0x1000, PROT_READ), 0);
  const std::optional<Mapping> m = find_at(maps_of(p.pid()), DE_WINDOW_END - 0x1000);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->perms, "r--s");
  // Taking rights away needs no approval (parking does it at every entry to ring 3).
  syscall_via_stub(p, SYS_mprotect, {DE_WINDOW_END - 0x1000, 0x1000, PROT_NONE});
  expect_end(p);
  EXPECT_EQ(result_word(), 0);
  EXPECT_EQ(find_at(maps_of(p.pid()), DE_WINDOW_END - 0x1000)->perms, "---s");
  syscall_via_stub(p, SYS_munmap, {DE_WINDOW_END - 0x1000, 0x1000});
  expect_end(p);
  EXPECT_EQ(result_word(), 0);
  EXPECT_FALSE(find_at(maps_of(p.pid()), DE_WINDOW_END - 0x1000).has_value());
  syscall_via_stub(p, SYS_futex, {kDone, FUTEX_WAKE, 1});
  expect_end(p);
  EXPECT_GE(result_word(), 0);
  EXPECT_TRUE(p.alive());
  p.ping();
}

// Code in the stub calling mmap or mprotect through the stub's own instruction, with
// arguments the filter's static rules accept: the call waits for the monitor, which did not
// ask for it and ends the process. The page of guest RAM it tried to reach stays untouched.
TEST_F(DeProcessTest, MappingCallsNobodyAskedForEndTheProcess) {
  constexpr uint64_t kTarget = 0x300000, kSecret = 0x200000;  // window address, RAM offset
  const uint64_t kShared = MAP_SHARED | MAP_FIXED, kRw = PROT_READ | PROT_WRITE;
  struct Case {
    const char* what;
    long nr;
    std::vector<uint64_t> args;
    bool parked;  // the monitor mapped the page first, PROT_NONE
  };
  const Case cases[] = {
      {"mmap of a RAM page",
       SYS_mmap,
       {kTarget, 0x1000, kRw, kShared, DE_STUB_RAM_FD, kSecret},
       false},
      {"mmap over a parked page",
       SYS_mmap,
       {kTarget, 0x1000, kRw, kShared, DE_STUB_RAM_FD, kSecret},
       true},
      {"mprotect of a parked page", SYS_mprotect, {kTarget, 0x1000, kRw}, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    ram_[kSecret] = 0x5a;
    DeProcess p(ram_fd_);
    map_code_and_data(p);
    if (c.parked) {
      ASSERT_EQ(p.map(kTarget, kSecret, 0x1000, PROT_READ | PROT_WRITE), 0);
      ASSERT_EQ(p.protect(kTarget, 0x1000, PROT_NONE), 0);
    }
    std::vector<uint64_t> args = c.args;
    args.resize(6, 0);
    const uint64_t insn = p.syscall_address();
    code([&](x86::Assembler& a) {
      a.mov(x86::rax, c.nr);
      a.mov(x86::rdi, args[0]);
      a.mov(x86::rsi, args[1]);
      a.mov(x86::rdx, args[2]);
      a.mov(x86::r10, args[3]);
      a.mov(x86::r8, args[4]);
      a.mov(x86::r9, args[5]);
      a.mov(x86::r11, insn);
      a.call(x86::r11);
      a.mov(x86::rcx, kTarget);
      a.mov(x86::byte_ptr(x86::rcx), 0xa5);  // the secret, overwritten
      a.ud2();
    });
    try {
      run(p);
      ADD_FAILURE() << "the call was let through";
    } catch (const DeProcess::Hostile& h) {
      EXPECT_NE(std::string(h.what()).find("a mapping call the monitor did not ask for: " +
                                           std::string(c.nr == SYS_mmap ? "mmap" : "mprotect")),
                std::string::npos)
          << h.what();
    }
    EXPECT_FALSE(p.alive());
    EXPECT_EQ(ram_[kSecret], 0x5a);
  }
}

// Without approval (DirectExec's default), the same calls inside the filter's rules run at once.
TEST_F(DeProcessTest, WithoutApprovalMappingCallsInsideTheRulesRun) {
  DeProcess p(ram_fd_, false);
  map_code_and_data(p);
  syscall_via_stub(p, SYS_mmap,
                   {0x300000, 0x1000, PROT_READ, MAP_SHARED | MAP_FIXED, DE_STUB_RAM_FD, 0x2000});
  expect_end(p);
  EXPECT_EQ(uint64_t(result_word()), 0x300000u);
  syscall_via_stub(p, SYS_mprotect, {0x300000, 0x1000, PROT_READ | PROT_WRITE});
  expect_end(p);
  EXPECT_EQ(result_word(), 0);
  EXPECT_EQ(find_at(maps_of(p.pid()), 0x300000)->perms, "rw-s");
  EXPECT_TRUE(p.alive());
}

// The monitor's own window changes are let through exactly: a batch mixing maps, protects and
// unmaps, each checked against the change asked for.
TEST_F(DeProcessTest, ApprovedChangesMatchWhatWasAsked) {
  DeProcess p(ram_fd_);
  using K = DeProcess::WindowOp::Kind;
  std::vector<DeProcess::WindowOp> ops;
  for (uint64_t i = 0; i < 200; ++i) {
    ops.push_back({K::Map, PROT_READ | PROT_WRITE, 0x400000 + i * 0x1000, 0x1000, i * 0x1000});
    if (i % 3 == 0) ops.push_back({K::Protect, PROT_READ, 0x400000 + i * 0x1000, 0x1000, 0});
    if (i % 7 == 0) ops.push_back({K::Unmap, 0, 0x400000 + i * 0x1000, 0x1000, 0});
  }
  size_t failed = 0;
  ASSERT_EQ(p.change_window(ops.data(), ops.size(), &failed), 0);
  const std::vector<Mapping> maps = maps_of(p.pid());
  EXPECT_FALSE(find_at(maps, 0x400000).has_value());  // i = 0: unmapped last
  const std::optional<Mapping> m3 = find_at(maps, 0x403000);
  ASSERT_TRUE(m3.has_value());
  EXPECT_EQ(m3->perms, "r--s");
  EXPECT_EQ(m3->offset, 0x3000u);
  EXPECT_TRUE(p.alive());
}

// The vsyscall page cannot be unmapped; its emulated calls are system calls to the filter.
TEST_F(DeProcessTest, VsyscallIsFiltered) {
  DeProcess p(ram_fd_);
  map_code_and_data(p);
  bool has_vsyscall = false;
  for (const Mapping& m : maps_of(p.pid())) has_vsyscall |= m.path == "[vsyscall]";
  code([](x86::Assembler& a) {
    a.mov(x86::rdi, kDataAt);
    a.xor_(x86::esi, x86::esi);
    a.mov(x86::rax, 0xffffffffff600000ull);  // gettimeofday
    a.call(x86::rax);
    a.ud2();
  });
  // Without a vsyscall page (vsyscall=none) the call faults instead: an exit, as any fault.
  if (has_vsyscall) {
    expect_death(p, SIGSYS);
  } else {
    const DeProcess::Exit x = run(p);
    EXPECT_EQ(x.signo, SIGSEGV);
    EXPECT_EQ(x.addr, 0xffffffffff600000ull);
  }
  EXPECT_EQ(ram_[kDataOffset], 0);
}

TEST_F(DeProcessTest, MapOutsideTheWindowIsRefused) {
  DeProcess p(ram_fd_);
  EXPECT_EQ(p.map(DE_WINDOW_END, 0, 0x1000, PROT_READ), -EINVAL);
  EXPECT_EQ(p.map(DE_WINDOW_END - 0x1000, 0, 0x2000, PROT_READ), -EINVAL);
  EXPECT_EQ(p.map(DE_STUB_CONTROL, 0, 0x1000, PROT_READ), -EINVAL);
  EXPECT_EQ(p.map(0x1000, 0, ~0ull & ~0xfffull, PROT_READ), -EINVAL);
  EXPECT_EQ(p.map(0x1001, 0, 0x1000, PROT_READ), -EINVAL);
  EXPECT_EQ(p.map(0x1000, kRamSize, 0x1000, PROT_READ), -EINVAL);  // past the end of RAM
  EXPECT_EQ(p.map(0x1000, kRamSize - 0x1000, 0x2000, PROT_READ), -EINVAL);
  EXPECT_EQ(p.map(0x1000, 0, 0x1000, PROT_READ | PROT_GROWSDOWN), -EINVAL);
  EXPECT_EQ(p.protect(0x1000, 0x1000, PROT_READ | 0x8 /* PROT_SEM */), -EINVAL);
  EXPECT_EQ(p.protect(DE_STUB_BASE, 0x1000, PROT_READ), -EINVAL);
  EXPECT_EQ(p.unmap(DE_STUB_CONTROL, 0x1000), -EINVAL);
  DeProcess::Regs above;
  above.rip = DE_STUB_BASE;
  EXPECT_THROW(p.enter(above, fpu_), std::invalid_argument);
  for (const Mapping& m : maps_of(p.pid())) {
    EXPECT_NE(m.start, DE_WINDOW_END);
    EXPECT_NE(m.start, DE_WINDOW_END - 0x1000);
  }
  EXPECT_TRUE(p.alive());
  p.ping();
  EXPECT_TRUE(find_at(maps_of(p.pid()), DE_STUB_CONTROL).has_value());
}

// Code spinning in the stub is stopped from another thread; the waiting command reports it.
TEST_F(DeProcessTest, SpinningCodeIsEndedByTerminate) {
  DeProcess p(ram_fd_);
  map_code_and_data(p);
  code([](x86::Assembler& a) { emit_spin(a); });
  {
    WhenSpinning killer(ram_, [&] { p.terminate(); });
    try {
      run(p);
      ADD_FAILURE() << "spinning code returned";
    } catch (const DeProcess::Died& d) {
      EXPECT_EQ(d.death.signal, SIGKILL) << d.what();
    }
  }
  EXPECT_FALSE(p.alive());
}

// A batch of window changes is applied in order, in commands of up to 96 changes; the first
// one refused stops it and says which.
TEST_F(DeProcessTest, WindowChangesGoInBatchesInOrder) {
  DeProcess p(ram_fd_);
  using Op = DeProcess::WindowOp;
  std::vector<Op> ops;
  for (uint64_t i = 0; i < 200; ++i)  // 200 single pages, RAM offsets backwards
    ops.push_back({Op::Kind::Map, PROT_READ, 0x400000 + i * 0x1000, 0x1000, (199 - i) * 0x1000});
  ops.push_back({Op::Kind::Protect, PROT_READ | PROT_WRITE, 0x400000 + 5 * 0x1000, 0x1000, 0});
  ops.push_back({Op::Kind::Unmap, 0, 0x400000 + 7 * 0x1000, 0x1000, 0});
  size_t failed = ~size_t(0);
  ASSERT_EQ(p.change_window(ops.data(), ops.size(), &failed), 0);
  const auto maps = maps_of(p.pid());
  for (uint64_t i : {0u, 5u, 6u, 150u, 199u}) {
    SCOPED_TRACE(i);
    const auto m = find_at(maps, 0x400000 + i * 0x1000);
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->offset, (199 - i) * 0x1000);
    EXPECT_EQ(m->perms, i == 5 ? "rw-s" : "r--s");
  }
  EXPECT_FALSE(find_at(maps, 0x400000 + 7 * 0x1000).has_value());

  // Refused by the stub's kernel (nothing mapped at the second protect): the first went in.
  std::vector<Op> bad = {{Op::Kind::Protect, PROT_NONE, 0x400000, 0x1000, 0},
                         {Op::Kind::Protect, PROT_READ, 0x400000 + 7 * 0x1000, 0x1000, 0}};
  EXPECT_EQ(p.change_window(bad.data(), bad.size(), &failed), -ENOMEM);
  EXPECT_EQ(failed, 1u);
  EXPECT_EQ(find_at(maps_of(p.pid()), 0x400000)->perms, "---s");
  // Refused before sending: outside the window, past RAM.
  bad = {{Op::Kind::Unmap, 0, 0x400000, 0x1000, 0},
         {Op::Kind::Map, PROT_READ, DE_WINDOW_END, 0x1000, 0}};
  EXPECT_EQ(p.change_window(bad.data(), bad.size(), &failed), -EINVAL);
  EXPECT_EQ(failed, 1u);
  bad = {{Op::Kind::Map, PROT_READ, 0x1000, 0x1000, kRamSize}};
  EXPECT_EQ(p.change_window(bad.data(), bad.size(), &failed), -EINVAL);
  EXPECT_EQ(failed, 0u);
  EXPECT_TRUE(p.alive());
}

// Each kind of fault or trap comes back as an exit record; the process stays and runs again.
TEST_F(DeProcessTest, FaultsAndTrapsComeBackAsExitRecords) {
  DeProcess p(ram_fd_);
  map_code_and_data(p);
  struct Case {
    const char* name;
    std::function<void(x86::Assembler&)> body;
    int signo, trapno;
    uint64_t rip;  // of the exit, relative to kCodeAt
  };
  const Case cases[] = {
      {"ud2",
       [](x86::Assembler& a) {
         a.nop();
         a.ud2();
       },
       SIGILL, 6, 1},
      {"int3", [](x86::Assembler& a) { a.int3(); }, SIGTRAP, 3, 1},
      {"hlt", [](x86::Assembler& a) { a.hlt(); }, SIGSEGV, 13, 0},
      {"div0",
       [](x86::Assembler& a) {
         a.xor_(x86::ecx, x86::ecx);
         a.div(x86::ecx);
       },
       SIGFPE, 0, 2},
      {"int 0x41", [](x86::Assembler& a) { a.int_(0x41); }, SIGSEGV, 13, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    code(c.body);
    DeProcess::Regs r;
    const DeProcess::Exit x = run(p, &r);
    EXPECT_EQ(x.kind, DeProcess::Exit::Kind::Trap);
    EXPECT_EQ(x.signo, c.signo);
    EXPECT_EQ(x.trapno, c.trapno);
    EXPECT_EQ(r.rip, kCodeAt + c.rip);
    EXPECT_EQ(r.cs, DE_HOST_CS64);
  }
  EXPECT_TRUE(p.alive());
}

// What the code leaves in its registers and FPU state is what the monitor gets back, and what
// it is entered with is what it sees.
TEST_F(DeProcessTest, RegistersAndFpuStateGoInAndComeBack) {
  DeProcess p(ram_fd_);
  map_code_and_data(p);
  code([](x86::Assembler& a) {
    for (auto reg : {x86::rax, x86::rcx, x86::rdx, x86::rbx, x86::rbp, x86::rsi, x86::rdi})
      a.add(reg, 0x11);
    a.push(x86::rax);  // rsp - 8
    a.movq(x86::xmm0, x86::rax);
    a.mov(x86::rcx, kDataAt);
    a.mov(x86::word_ptr(x86::rcx), 0x27f);  // precision control 53 bits
    a.fldcw(x86::word_ptr(x86::rcx));
    a.mov(x86::rcx, 0x123);
    a.stc();
    a.ud2();
  });
  DeProcess::Regs r;
  for (int i = 0; i < 8; ++i) r.gpr[i] = 0x1000 * uint64_t(i + 1);
  r.gpr[4] = kDataAt + 0x8000;
  fpu_[160] = 0xaa;  // xmm0's first byte: overwritten by the code
  const DeProcess::Exit x = run(p, &r);
  EXPECT_EQ(x.signo, SIGILL);
  EXPECT_EQ(r.gpr[0], 0x1011u);
  EXPECT_EQ(r.gpr[1], 0x123u);
  EXPECT_EQ(r.gpr[2], 0x3011u);
  EXPECT_EQ(r.gpr[3], 0x4011u);
  EXPECT_EQ(r.gpr[4], kDataAt + 0x8000 - 8);
  EXPECT_EQ(r.gpr[5], 0x6011u);
  EXPECT_EQ(r.gpr[6], 0x7011u);
  EXPECT_EQ(r.gpr[7], 0x8011u);
  EXPECT_EQ(r.rflags & 1, 1u);  // CF
  uint16_t fcw;
  uint64_t xmm0;
  std::memcpy(&fcw, fpu_, 2);
  std::memcpy(&xmm0, fpu_ + 160, 8);
  EXPECT_EQ(fcw, 0x27f);
  EXPECT_EQ(xmm0, 0x1011u);
}

// What one entry leaves in extended state beyond x87/SSE (upper vector halves, AVX-512 mask
// registers) is reset before the next: one guest process cannot see another's.
TEST_F(DeProcessTest, ExtendedStateIsResetBeforeEachEntry) {
  unsigned a, b, c, d;
  __cpuid_count(7, 0, a, b, c, d);
  const bool avx512 = (b >> 16) & 1;
  __cpuid(1, a, b, c, d);
  if (!((c >> 28) & 1) || !((c >> 27) & 1)) GTEST_SKIP() << "this host has no AVX";
  DeProcess p(ram_fd_);
  map_code_and_data(p);
  code([&](x86::Assembler& a) {
    a.vxorps(x86::ymm1, x86::ymm1, x86::ymm1);
    a.vcmpps(x86::ymm1, x86::ymm1, x86::ymm1, 0);  // all ones, upper half included
    if (avx512) {
      a.mov(x86::eax, -1);
      a.kmovw(x86::k1, x86::eax);
    }
    a.ud2();
  });
  expect_end(p);
  code([&](x86::Assembler& a) {
    a.mov(x86::rcx, kDataAt);
    a.vextractf128(x86::xmm2, x86::ymm1, 1);
    a.vmovdqu(x86::xmmword_ptr(x86::rcx), x86::xmm2);
    if (avx512) {
      a.kmovw(x86::eax, x86::k1);
      a.mov(x86::dword_ptr(x86::rcx, 16), x86::eax);
    }
    a.ud2();
  });
  std::memset(ram_ + kDataOffset, 0x5a, 32);
  expect_end(p);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(ram_[kDataOffset + i], 0) << i;
  if (avx512) {
    EXPECT_EQ(ram_[kDataOffset + 16], 0);
  }
}

// A 64-bit process's int 0x80 enters the kernel as an i386 system call (when the host has the
// i386 ABI): the filter traps it, it never runs, and the number comes back in the record.
TEST_F(DeProcessTest, I386SystemCallComesBackAsSigsysAndNeverRuns) {
  DeProcess p(ram_fd_);
  map_code_and_data(p);
  std::memcpy(ram_ + kDataOffset + 0x100, canary_.c_str(), canary_.size() + 1);
  uint64_t after = 0;
  code([&](x86::Assembler& a) {
    a.mov(x86::eax, 8);  // i386 creat(path, mode)
    a.mov(x86::ebx, kDataAt + 0x100);
    a.mov(x86::ecx, 0644);
    a.int_(0x80);
    after = a.offset();
    a.ud2();
  });
  DeProcess::Regs r;
  const DeProcess::Exit x = run(p, &r);
  EXPECT_FALSE(canary_exists());
  ASSERT_EQ(x.kind, DeProcess::Exit::Kind::Trap);
  if (x.signo == SIGSEGV && x.trapno == 13)
    GTEST_SKIP() << "this host kernel has no i386 system-call ABI (int 0x80 is #GP)";
  EXPECT_EQ(x.signo, SIGSYS);
  EXPECT_EQ(x.syscall_nr, 8);
  EXPECT_EQ(r.rip, kCodeAt + after);
  EXPECT_TRUE(p.alive());
}

// Spinning code is interrupted by a kick; the process is still usable.
TEST_F(DeProcessTest, KickInterruptsSpinningCode) {
  DeProcess p(ram_fd_);
  map_code_and_data(p);
  uint64_t loop = 0;
  code([&](x86::Assembler& a) { loop = emit_spin(a); });
  DeProcess::Regs r;
  DeProcess::Exit x;
  {
    WhenSpinning kicker(ram_, [&] { p.kick(); });
    x = run(p, &r);
  }
  EXPECT_EQ(x.kind, DeProcess::Exit::Kind::Kick);
  EXPECT_EQ(x.signo, DE_KICK_SIGNAL);
  EXPECT_EQ(r.rip, kCodeAt + loop);
  EXPECT_TRUE(p.alive());
  code([](x86::Assembler& a) { a.ud2(); });
  expect_end(p);
}

// Code that took over the stub blocks the kick signal (rt_sigreturn through the stub's own
// instruction, with a frame whose mask blocks everything) and spins: the monitor ends it.
TEST_F(DeProcessTest, UnansweredKickEndsTheProcess) {
  DeProcess p(ram_fd_);
  map_code_and_data(p);
  p.set_kick_grace(std::chrono::milliseconds(50));
  // The frame rt_sigreturn reads at rsp: a ucontext (flags, link, stack, sigcontext, mask).
  constexpr uint64_t kFrame = kDataAt + 0x4000;
  struct {
    uint64_t flags, link;
    uint64_t ss_sp;
    int32_t ss_flags, pad;
    uint64_t ss_size;
    uint64_t gregs[18];  // r8..r15 rdi rsi rbp rbx rdx rax rcx rsp rip eflags
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2, fpstate, reserved[8];
    uint64_t sigmask;
  } f{};
  f.ss_flags = SS_DISABLE;
  f.gregs[15] = kDataAt + 0x8000;  // rsp
  f.gregs[16] = kCodeAt + 0x100;   // rip: the spin loop
  f.gregs[17] = 0x202;
  f.cs = DE_HOST_CS64;
  f.ss = DE_HOST_DS;
  f.sigmask = ~0ull;
  std::memcpy(ram_ + kDataOffset + 0x4000, &f, sizeof f);
  const uint64_t insn = p.syscall_address();
  code([&](x86::Assembler& a) {
    a.mov(x86::rsp, kFrame);
    a.mov(x86::eax, SYS_rt_sigreturn);
    a.mov(x86::rcx, insn);
    a.jmp(x86::rcx);
    while (a.offset() < 0x100) a.int3();
    emit_spin(a);
  });
  {
    WhenSpinning kicker(ram_, [&] { p.kick(); });
    try {
      run(p);
      ADD_FAILURE() << "the code came back";
    } catch (const DeProcess::Died& d) {
      EXPECT_TRUE(d.death.unanswered_kick) << d.what();
      EXPECT_NE(std::string(d.what()).find("did not answer a kick"), std::string::npos);
    }
  }
  EXPECT_FALSE(p.alive());
}

// Code that took over the stub writes an answer of its own into the control page: the monitor
// refuses it and ends the process.
TEST_F(DeProcessTest, ForgedExitRecordIsRefused) {
  for (uint32_t kind : {77u, uint32_t(DE_EXIT_KICK)}) {  // unknown; a kick nobody sent
    SCOPED_TRACE(kind);
    DeProcess p(ram_fd_);
    map_code_and_data(p);
    const uint64_t insn = p.syscall_address();
    code([&](x86::Assembler& a) {
      a.mov(x86::rbx, DE_STUB_CONTROL);
      a.mov(x86::dword_ptr(x86::rbx, DE_OFF_EXIT), kind);
      a.mov(x86::dword_ptr(x86::rbx, DE_OFF_EXIT + 4), DE_KICK_SIGNAL);
      a.mov(x86::eax, x86::dword_ptr(x86::rbx, offsetof(de_stub_control, seq)));
      a.mov(x86::dword_ptr(x86::rbx, offsetof(de_stub_control, result)), 0);
      a.mov(x86::dword_ptr(x86::rbx, offsetof(de_stub_control, done)), x86::eax);
      a.mov(x86::eax, SYS_futex);
      a.lea(x86::rdi, x86::ptr(x86::rbx, offsetof(de_stub_control, done)));
      a.mov(x86::esi, FUTEX_WAKE);
      a.mov(x86::edx, 1);
      a.mov(x86::rcx, insn);
      a.call(x86::rcx);
      Label spin = a.newLabel();
      a.bind(spin);
      a.jmp(spin);
    });
    try {
      run(p);
      ADD_FAILURE() << "a forged record was accepted";
    } catch (const DeProcess::Hostile& h) {
      EXPECT_NE(std::string(h.what()).find("impossible exit record"), std::string::npos)
          << h.what();
    }
    EXPECT_FALSE(p.alive());
  }
}

// Whether this host loads LDT selectors at all (a PVM guest accepts modify_ldt but faults
// every load), tried in a child.
bool host_loads_ldt_selectors() {
  const pid_t pid = fork();
  if (pid == 0) {
    user_desc d{};
    d.entry_number = 2;
    d.limit = 0xfffff;
    d.seg_32bit = 1;
    d.limit_in_pages = 1;
    if (syscall(SYS_modify_ldt, 1, &d, sizeof d) != 0) _exit(1);
    // DS, and exit_group without libc: nothing after the load may depend on the FS base.
    const uint16_t sel = 0x17;
    asm volatile("mov %0, %%ds\n\tmov $231, %%eax\n\txor %%edi, %%edi\n\tsyscall"
                 :
                 : "r"(sel)
                 : "rax", "rdi", "rcx", "r11", "memory");
    _exit(2);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// A host LDT entry made with set_ldt() is a selector entered code can use; one never made
// faults the entry itself.
TEST_F(DeProcessTest, LdtEntriesAreMadeInTheProcess) {
  DeProcess p(ram_fd_);
  map_code_and_data(p);
  code([](x86::Assembler& a) { a.ud2(); });
  DeProcess::Regs r;
  r.ds = 0x17;  // LDT index 2, RPL 3: nothing there yet
  DeProcess::Exit x = run(p, &r);
  EXPECT_EQ(x.kind, DeProcess::Exit::Kind::EntryFault);
  EXPECT_EQ(x.signo, SIGSEGV);
  user_desc d{};
  d.entry_number = 2;
  d.limit = 0xfffff;
  d.seg_32bit = 1;
  d.limit_in_pages = 1;
  ASSERT_EQ(p.set_ldt(d), 0);
  if (!host_loads_ldt_selectors())
    GTEST_SKIP() << "this host faults every LDT selector load (a PVM guest); set_ldt() itself "
                    "succeeded";
  r = DeProcess::Regs{};
  r.ds = 0x17;
  x = run(p, &r);
  EXPECT_EQ(x.kind, DeProcess::Exit::Kind::Trap);
  EXPECT_EQ(x.signo, SIGILL);
  EXPECT_EQ(r.ds, 0x17);
}

TEST_F(DeProcessTest, ExternalKillIsSeenAndReported) {
  DeProcess p(ram_fd_);
  ASSERT_EQ(kill(p.pid(), SIGKILL), 0);
  try {
    p.ping();
    ADD_FAILURE() << "a killed process answered";
  } catch (const DeProcess::Died& d) {
    EXPECT_EQ(d.death.signal, SIGKILL);
    EXPECT_NE(std::string(d.what()).find("SIGKILL"), std::string::npos) << d.what();
  }
}

TEST_F(DeProcessTest, DestructorKillsAndReaps) {
  pid_t pid;
  {
    DeProcess p(ram_fd_);
    pid = p.pid();
    ASSERT_EQ(kill(pid, 0), 0);
  }
  errno = 0;
  EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
  EXPECT_EQ(access(("/proc/" + std::to_string(pid)).c_str(), F_OK), -1);
}

}  // namespace
