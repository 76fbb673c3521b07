// diff_native_tests: the comparison that decides whether a translated run matches.
#include <gtest/gtest.h>

#include "compare.h"

namespace difftest {
namespace {

RunRecord record() {
  RunRecord r;
  for (int i = 0; i < 8; ++i) r.outcome.state.gpr[i] = 0x1000 * i;
  r.outcome.state.eflags = kFixedFlags | kCF | kZF;
  r.data.assign(kDataSize, 0);
  r.stack.assign(kStackSize, 0);
  return r;
}

bool mentions(const std::vector<std::string>& diffs, const std::string& what) {
  for (const std::string& d : diffs) {
    if (d.find(what) != std::string::npos) return true;
  }
  return false;
}

TestCase add_case() {
  TestCase tc;
  tc.name = "compare.add";
  tc.code = {0x01, 0xd8};
  tc.in = {};
  return tc;
}

TEST(Compare, IdenticalRunsAgree) {
  EXPECT_TRUE(differences(add_case(), record(), record()).empty());
}

TEST(Compare, ARegisterDifferenceIsNamed) {
  RunRecord t = record();
  t.outcome.state.gpr[kEcx] ^= 1;
  const auto diffs = differences(add_case(), record(), t);
  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_TRUE(mentions(diffs, "ecx")) << diffs[0];
}

TEST(Compare, FlagsCountUnlessUndefinedOrNotCompared) {
  TestCase tc = add_case();
  RunRecord t = record();
  t.outcome.state.eflags ^= kAF;
  EXPECT_TRUE(mentions(differences(tc, record(), t), "eflags.AF"));
  tc.undefined_flags = kAF;
  EXPECT_TRUE(differences(tc, record(), t).empty());
  RunRecord host = record();
  host.outcome.state.eflags ^= 1u << 9;  // IF is the host's business
  EXPECT_TRUE(differences(tc, record(), host).empty());
  RunRecord df = record();
  df.outcome.state.eflags ^= kDF;
  EXPECT_TRUE(mentions(differences(tc, record(), df), "eflags.DF"));
}

TEST(Compare, ExceptionOutcomesAreCompared) {
  RunRecord n = record(), t = record();
  n.outcome.vector = 0;
  n.outcome.fault_eip = kCodeBase;
  EXPECT_TRUE(mentions(differences(add_case(), n, t), "exception"));
  t.outcome.vector = 0;
  t.outcome.fault_eip = kCodeBase + 2;
  EXPECT_TRUE(mentions(differences(add_case(), n, t), "fault eip"));
  t.outcome.fault_eip = kCodeBase;
  t.outcome.error_code = 4;  // #DE has no error code
  EXPECT_TRUE(differences(add_case(), n, t).empty());
  n.outcome.vector = t.outcome.vector = 13;
  EXPECT_TRUE(mentions(differences(add_case(), n, t), "error code"));
}

TEST(Compare, MemoryDifferencesGiveAddressesAndACount) {
  RunRecord t = record();
  t.data[5] = 0x77;
  t.stack[kStackSize - 1] = 1;
  auto diffs = differences(add_case(), record(), t);
  EXPECT_TRUE(mentions(diffs, "0x10010005"));
  EXPECT_TRUE(mentions(diffs, "0x1002ffff"));
  for (int i = 0; i < 40; ++i) t.data[100 + i] = 1;
  diffs = differences(add_case(), record(), t);
  EXPECT_TRUE(mentions(diffs, "more differing bytes"));
  EXPECT_LT(diffs.size(), 25u);
}

TEST(Compare, DescriptionDisassemblesTheCode) {
  const std::string text = describe(add_case());
  EXPECT_NE(text.find("compare.add"), std::string::npos);
  EXPECT_NE(text.find("add eax, ebx"), std::string::npos) << text;
}

}  // namespace
}  // namespace difftest
