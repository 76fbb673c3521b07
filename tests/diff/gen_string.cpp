#include "case_classes.h"
namespace difftest {
std::vector<TestCase> gen_string() { return {}; }
}
