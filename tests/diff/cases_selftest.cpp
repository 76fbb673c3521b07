// diff_native_tests: the generated cases themselves (size, determinism, native behaviour).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <set>

#include "case_classes.h"
#include "compare.h"
#include "harness.h"
#include "require_compat.h"

namespace difftest {
namespace {

constexpr size_t kMinCasesPerClass = 400;
constexpr size_t kMinCasesTotal = 5000;

TEST(GeneratedCases, ClassesAreLargeEnough) {
  size_t total = 0;
  for (const CaseClass& cls : case_classes()) {
    const size_t n = cls.generate().size();
    std::cout << fmt::format("{:>14}: {} cases\n", cls.name, n);
    EXPECT_GE(n, kMinCasesPerClass) << cls.name;
    total += n;
  }
  std::cout << fmt::format("{:>14}: {} cases\n", "total", total);
  EXPECT_GE(total, kMinCasesTotal);
}

TEST(GeneratedCases, AreDeterministicUniquelyNamedAndWellFormed) {
  std::set<std::string> names;
  for (const CaseClass& cls : case_classes()) {
    const auto a = cls.generate();
    const auto b = cls.generate();
    ASSERT_EQ(a.size(), b.size()) << cls.name;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].name, b[i].name);
      EXPECT_EQ(a[i].code, b[i].code) << a[i].name;
      EXPECT_EQ(a[i].data, b[i].data) << a[i].name;
      EXPECT_EQ(0, std::memcmp(&a[i].in, &b[i].in, sizeof(CpuState))) << a[i].name;
      EXPECT_EQ(a[i].undefined_flags, b[i].undefined_flags) << a[i].name;
      EXPECT_TRUE(names.insert(a[i].name).second) << "duplicate name " << a[i].name;
      EXPECT_FALSE(a[i].code.empty()) << a[i].name;
      EXPECT_EQ(a[i].undefined_flags & ~kArithFlags, 0u) << a[i].name;
      const uint32_t esp = a[i].in.gpr[kEsp];
      EXPECT_TRUE(esp >= kStackBase + 0x1000 && esp <= kStackBase + kStackSize - 0x1000)
          << a[i].name << " starts with ESP outside the middle of the stack area";
    }
  }
}

// Each case runs natively to its end or to an exception its class expects, twice with the same
// result: a generator bug (a stray address, a runaway jump) shows up here without bt/.
TEST(GeneratedCases, RunNativelyAsTheirClassExpects) {
  BT86_REQUIRE_COMPAT_MODE();
  auto native = make_native_runner();
  for (const CaseClass& cls : case_classes()) {
    int bad = 0;
    std::map<int, int> outcomes;
    for (const TestCase& tc : cls.generate()) {
      reset_arena(tc);
      const RunRecord first = capture(native->run(tc));
      reset_arena(tc);
      const RunRecord second = capture(native->run(tc));
      const int v = first.outcome.vector;
      ++outcomes[v];
      const bool expected =
          v == -1 || std::count(cls.expected_vectors.begin(), cls.expected_vectors.end(), v) > 0;
      const auto diffs = differences(tc, first, second);
      if ((!expected || !diffs.empty()) && bad++ < 5) {
        ADD_FAILURE() << describe(tc) << "ended with " << vector_name(v) << " at "
                      << fmt::format("{:#x}", first.outcome.fault_eip)
                      << (diffs.empty() ? "" : "; two native runs differ: " + diffs[0]);
      }
    }
    EXPECT_EQ(bad, 0) << cls.name;
    std::string summary;
    for (const auto& [v, n] : outcomes) summary += fmt::format("  {}: {}", vector_name(v), n);
    std::cout << fmt::format("{:>14}:{}\n", cls.name, summary);
  }
}

}  // namespace
}  // namespace difftest
