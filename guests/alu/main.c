#include "alu.h"
#include "mix.h"

struct section {
  const char* name;
  uint32_t (*run)(void);
};

/* The order is part of the output format: guest and native lines are compared in order. */
static const struct section sections[] = {
    {"arith", alu_arith},         {"shift", alu_shift},   {"bitops", alu_bitops},
    {"muldiv", alu_muldiv},       {"string", alu_string}, {"cond", alu_cond},
    {"exchange", alu_exchange},   {"movx", alu_movx},     {"stack", alu_stack},
    {"control", alu_control},     {"bcd", alu_bcd},       {"misc", alu_misc},
    {"recursion", alu_recursion}, {"int64", alu_int64},
};

void alu_main(void) {
  uint32_t total = 0;
  for (unsigned i = 0; i < sizeof sections / sizeof sections[0]; i++) {
    uint32_t sum = sections[i].run();
    alu_report(sections[i].name, sum);
    total = mix(total, sum);
  }
  alu_report("total", total);
}
