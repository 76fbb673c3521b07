// The confined direct-execution process (hostexec/de_process.h, hostexec/de_stub/): its address
// space holds only the stub, the control page and the window mappings asked for; window
// commands change exactly those; any system call from code running in it but the stub's own
// checked mapping and futex calls kills it (SIGSYS), and the monitor sees and reports the death.
// Guest code here is 64-bit, run by the stub's test-only command: this host cannot run
// compat-mode code, and 64-bit code is what an escaped guest would run.
#include "hostexec/de_process.h"

#include <asmjit/x86.h>
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

namespace {

using hostexec::DeProcess;
using namespace asmjit;

constexpr uint64_t kRamSize = 16 << 20;
constexpr uint64_t kCodeAt = 0x10000;   // window address of test code (RAM offset 0)
constexpr uint64_t kDataAt = 0x100000;  // window address of test data (RAM offset 1 MiB)
constexpr uint64_t kDataOffset = 1 << 20;
constexpr uint64_t kStubSpan = 1 << 20;  // the stub's image is far smaller

struct Mapping {
  uint64_t start = 0, end = 0;
  std::string perms;
  uint64_t offset = 0;
  std::string path;
};

std::vector<Mapping> maps_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
  std::vector<Mapping> out;
  std::string line;
  while (std::getline(in, line)) {
    Mapping m;
    char perms[8] = {};
    unsigned long long s, e, off;
    int path_at = 0;
    if (sscanf(line.c_str(), "%llx-%llx %7s %llx %*s %*s %n", &s, &e, perms, &off, &path_at) < 4)
      continue;
    m.start = s;
    m.end = e;
    m.perms = perms;
    m.offset = off;
    m.path = path_at ? line.substr(size_t(path_at)) : "";
    out.push_back(m);
  }
  return out;
}

std::optional<Mapping> find_at(const std::vector<Mapping>& maps, uint64_t start) {
  for (const Mapping& m : maps)
    if (m.start == start) return m;
  return std::nullopt;
}

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
      a.ret();
    });
  }

  int64_t result_word() const {
    int64_t v;
    std::memcpy(&v, ram_ + kDataOffset, 8);
    return v;
  }

  // Runs the code; expects the stub to die with `sig`, reported both ways.
  void expect_death(DeProcess& p, int sig) {
    try {
      p.run_test_code(kCodeAt);
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
  // Only guest RAM stays open; the filter is in force.
  EXPECT_EQ(fds_of(p.pid()), std::set<int>{DE_STUB_RAM_FD});
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
    a.ret();
  });
  ASSERT_EQ(p.run_test_code(kCodeAt), 0);
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

TEST_F(DeProcessTest, StoreToReadOnlyWindowKillsWithSigsegv) {
  DeProcess p(ram_fd_);
  map_code_and_data(p);
  ASSERT_EQ(p.protect(kDataAt, 0x1000, PROT_READ), 0);
  code([](x86::Assembler& a) {
    a.mov(x86::rcx, kDataAt);
    a.mov(x86::dword_ptr(x86::rcx), 1);
    a.ret();
  });
  expect_death(p, SIGSEGV);
  EXPECT_EQ(ram_[kDataOffset], 0);
}

TEST_F(DeProcessTest, UnmappedWindowKillsWithSigsegv) {
  DeProcess p(ram_fd_);
  map_code_and_data(p);
  ASSERT_EQ(p.unmap(kDataAt, 0x10000), 0);
  code([](x86::Assembler& a) {
    a.mov(x86::rcx, kDataAt);
    a.mov(x86::eax, x86::dword_ptr(x86::rcx));
    a.ret();
  });
  expect_death(p, SIGSEGV);
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
    a.ret();
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
    a.ret();
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
// simply killing everything.
TEST_F(DeProcessTest, CheckedArgumentsInsideTheRulesAreAllowed) {
  const uint64_t kShared = MAP_SHARED | MAP_FIXED;
  const uint64_t kDone = DE_STUB_CONTROL + offsetof(de_stub_control, done);
  DeProcess p(ram_fd_);
  map_code_and_data(p);
  // The last page below 8 GiB: the sum of address and length is exactly the limit.
  syscall_via_stub(p, SYS_mmap,
                   {DE_WINDOW_END - 0x1000, 0x1000, PROT_READ, kShared, DE_STUB_RAM_FD, 0x2000});
  ASSERT_EQ(p.run_test_code(kCodeAt), 0);
  EXPECT_EQ(uint64_t(result_word()), DE_WINDOW_END - 0x1000);
  const std::optional<Mapping> m = find_at(maps_of(p.pid()), DE_WINDOW_END - 0x1000);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->perms, "r--s");

  syscall_via_stub(p, SYS_mprotect, {DE_WINDOW_END - 0x1000, 0x1000, PROT_NONE});
  ASSERT_EQ(p.run_test_code(kCodeAt), 0);
  EXPECT_EQ(result_word(), 0);
  syscall_via_stub(p, SYS_munmap, {DE_WINDOW_END - 0x1000, 0x1000});
  ASSERT_EQ(p.run_test_code(kCodeAt), 0);
  EXPECT_EQ(result_word(), 0);
  EXPECT_FALSE(find_at(maps_of(p.pid()), DE_WINDOW_END - 0x1000).has_value());
  syscall_via_stub(p, SYS_futex, {kDone, FUTEX_WAKE, 1});
  ASSERT_EQ(p.run_test_code(kCodeAt), 0);
  EXPECT_GE(result_word(), 0);
  EXPECT_TRUE(p.alive());
  p.ping();
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
    a.ret();
  });
  // Without a vsyscall page (vsyscall=none) the call faults instead.
  expect_death(p, has_vsyscall ? SIGSYS : SIGSEGV);
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
  EXPECT_EQ(p.run_test_code(DE_STUB_BASE), -EINVAL);
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
  code([](x86::Assembler& a) {
    Label spin = a.newLabel();
    a.mov(x86::rcx, kDataAt);
    a.mov(x86::dword_ptr(x86::rcx), 1);
    a.bind(spin);
    a.jmp(spin);
  });
  std::atomic<bool> over{false};
  std::thread killer([&] {
    std::atomic_ref<uint8_t> started(ram_[kDataOffset]);
    while (started.load() != 1 && !over.load()) std::this_thread::yield();
    if (!over.load()) p.terminate();  // the code is spinning now
  });
  try {
    p.run_test_code(kCodeAt);
    ADD_FAILURE() << "spinning code returned";
  } catch (const DeProcess::Died& d) {
    EXPECT_EQ(d.death.signal, SIGKILL) << d.what();
  }
  over = true;
  killer.join();
  EXPECT_FALSE(p.alive());
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
