// Comparing a native and a translated run of one test case, and describing what differs.
#pragma once

#include <string>
#include <vector>

#include "harness.h"

namespace difftest {

// What one runner left behind: its outcome plus the data and stack areas afterwards.
struct RunRecord {
  Outcome outcome;
  std::vector<uint8_t> data;
  std::vector<uint8_t> stack;
};

// Copies the data and stack areas out of the arena.
RunRecord capture(const Outcome& outcome);

// One line per difference (empty when the runs agree): registers, compared flags (minus the
// case's undefined ones), exception vector, fault EIP and error code, memory bytes.
std::vector<std::string> differences(const TestCase& tc, const RunRecord& native,
                                     const RunRecord& translated);

// The case's name, disassembled code and initial state, for a mismatch report.
std::string describe(const TestCase& tc);

std::string format_state(const CpuState& s);
std::string vector_name(int vector);

}  // namespace difftest
