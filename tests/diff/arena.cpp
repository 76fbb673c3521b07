// The fixed low-address arena that test code, its data and its stack live in.
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "harness.h"

namespace difftest {
namespace {

constexpr uint32_t kArenaBase = kCodeBase;
constexpr uint32_t kArenaSize = kRunnerBase + kRunnerSize - kCodeBase;
static_assert(kDataBase == kCodeBase + kCodeSize && kStackBase == kDataBase + kDataSize &&
                  kRunnerBase == kStackBase + kStackSize,
              "the arena is one contiguous mapping");

constexpr uint8_t kInt3 = 0xcc;

class Arena {
 public:
  Arena() {
    void* want = arena_ptr(kArenaBase);
    // Code and runner stubs are written and executed here, hence RWX for the whole range first.
    void* got = mmap(want, kArenaSize, PROT_READ | PROT_WRITE | PROT_EXEC,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (got == MAP_FAILED) {
      throw std::runtime_error("difftest: cannot map the test arena at " +
                               std::to_string(kArenaBase) + "+" + std::to_string(kArenaSize) +
                               ": " + std::strerror(errno) +
                               (errno == EEXIST ? " (the range is already in use)" : ""));
    }
    if (got != want) {  // kernels before 4.17 ignore MAP_FIXED_NOREPLACE
      munmap(got, kArenaSize);
      throw std::runtime_error("difftest: the kernel placed the test arena elsewhere");
    }
    if (mprotect(arena_ptr(kDataBase), kDataSize + kStackSize, PROT_READ | PROT_WRITE) != 0) {
      munmap(got, kArenaSize);
      throw std::runtime_error(std::string("difftest: mprotect of the arena failed: ") +
                               std::strerror(errno));
    }
  }
  ~Arena() { munmap(arena_ptr(kArenaBase), kArenaSize); }
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
};

}  // namespace

void map_arena() {
  static Arena arena;
}

void reset_arena(const TestCase& tc) {
  // The native runner appends a 5-byte jump after the code.
  if (tc.code.size() > kCodeSize - 16) {
    throw std::invalid_argument("difftest: case '" + tc.name +
                                "': " + std::to_string(tc.code.size()) +
                                " code bytes do not fit the code area");
  }
  if (tc.data.size() > kDataSize) {
    throw std::invalid_argument("difftest: case '" + tc.name +
                                "': " + std::to_string(tc.data.size()) +
                                " data bytes do not fit the data area");
  }
  map_arena();
  uint8_t* code = arena_ptr(kCodeBase);
  if (!tc.code.empty()) std::memcpy(code, tc.code.data(), tc.code.size());
  // A runaway jump into the rest of the code area stops at an int3 instead of running on.
  std::memset(code + tc.code.size(), kInt3, kCodeSize - tc.code.size());
  uint8_t* data = arena_ptr(kDataBase);
  if (!tc.data.empty()) std::memcpy(data, tc.data.data(), tc.data.size());
  std::memset(data + tc.data.size(), 0, kDataSize - tc.data.size());
  std::memset(arena_ptr(kStackBase), 0, kStackSize);
}

}  // namespace difftest
