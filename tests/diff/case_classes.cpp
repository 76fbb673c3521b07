#include "case_classes.h"

namespace difftest {

const std::vector<CaseClass>& case_classes() {
  static const std::vector<CaseClass> classes = {
      {"alu", gen_alu, {}},
      {"shift_rotate", gen_shift_rotate, {}},
      {"bit", gen_bit, {}},
      {"muldiv", gen_muldiv, {0}},
      {"string", gen_string, {}},
      {"setcc_cmov", gen_setcc_cmov, {}},
      {"xchg_cmpxchg", gen_xchg_cmpxchg, {}},
      {"bswap_movx", gen_bswap_movx, {}},
      {"lea", gen_lea, {}},
      {"stack", gen_stack, {}},
      {"branch", gen_branch, {}},
      {"misc", gen_misc, {0}},
      {"exceptions", gen_exceptions, {0, 3, 4, 5, 6}},
      {"x87", gen_x87, {}},
      {"mmx", gen_mmx, {}},
      {"sse", gen_sse, {}},
      {"fpu_state", gen_fpu_state, {}},
      {"fpu_faults", gen_fpu_faults, {13, 16, 19}},
  };
  return classes;
}

}  // namespace difftest
