// The instruction classes of the differential tests, one generator each.
#pragma once

#include <vector>

#include "harness.h"

namespace difftest {

struct CaseClass {
  const char* name;
  std::vector<TestCase> (*generate)();  // deterministic: a fixed seed per class
  // Exception vectors this class's cases may end with, besides -1; anything else (e.g. a #PF)
  // means a generator bug.
  std::vector<int> expected_vectors;
};

const std::vector<CaseClass>& case_classes();

std::vector<TestCase> gen_alu();
std::vector<TestCase> gen_shift_rotate();
std::vector<TestCase> gen_bit();
std::vector<TestCase> gen_muldiv();
std::vector<TestCase> gen_string();
std::vector<TestCase> gen_setcc_cmov();
std::vector<TestCase> gen_xchg_cmpxchg();
std::vector<TestCase> gen_bswap_movx();
std::vector<TestCase> gen_lea();
std::vector<TestCase> gen_stack();
std::vector<TestCase> gen_branch();
std::vector<TestCase> gen_misc();
std::vector<TestCase> gen_exceptions();
std::vector<TestCase> gen_x87();
std::vector<TestCase> gen_mmx();
std::vector<TestCase> gen_sse();
std::vector<TestCase> gen_fpu_state();
std::vector<TestCase> gen_fpu_faults();

}  // namespace difftest
