// diff_tests: every generated case runs natively and translated from the same state; the two
// must agree on registers, compared flags, exception outcome and the data and stack areas.
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "case_classes.h"
#include "compare.h"
#include "harness.h"
#include "require_compat.h"

namespace difftest {

// GoogleTest prints the parameter into the test's listing (and so into ctest's test name).
void PrintTo(const CaseClass& cls, std::ostream* os) {
  *os << cls.name;
}

namespace {

constexpr int kMaxReportsPerClass = 10;

class DiffTest : public ::testing::TestWithParam<CaseClass> {};

TEST_P(DiffTest, MatchesNative) {
  BT86_REQUIRE_COMPAT_MODE();
  const CaseClass& cls = GetParam();
  const std::vector<TestCase> cases = cls.generate();
  ASSERT_FALSE(cases.empty()) << cls.name << " generated no cases";
  auto native = make_native_runner();
  auto translated = make_translated_runner();
  int mismatches = 0;
  for (const TestCase& tc : cases) {
    reset_arena(tc);
    const RunRecord expected = capture(native->run(tc));
    reset_arena(tc);
    const Outcome got = translated->run(tc);
    if (::testing::Test::HasFatalFailure()) {
      FAIL() << cls.name << ": the " << translated->name() << " runner gave up at case " << tc.name;
    }
    const std::vector<std::string> diffs = differences(tc, expected, capture(got));
    if (diffs.empty()) continue;
    if (mismatches++ < kMaxReportsPerClass) {
      std::string report = describe(tc) + "differences (native vs " + translated->name() + "):\n";
      for (const std::string& d : diffs) report += "  " + d + "\n";
      ADD_FAILURE() << report;
    }
  }
  RecordProperty("cases", static_cast<int>(cases.size()));
  EXPECT_EQ(mismatches, 0) << cls.name << ": " << mismatches << " of " << cases.size()
                           << " cases differ (at most " << kMaxReportsPerClass
                           << " are shown in detail)";
}

INSTANTIATE_TEST_SUITE_P(Classes, DiffTest, ::testing::ValuesIn(case_classes()),
                         [](const ::testing::TestParamInfo<CaseClass>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace difftest
