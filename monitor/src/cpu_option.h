// --cpu NAME: which CPU model the guest sees (cpu/model.h), and `--cpu help`.
#pragma once

#include <cstdio>
#include <string>

#include "cpu/model.h"

namespace monitor {

// Prints every model: name, description, the CPUID features bt86 advertises for it and those
// the real part has that bt86 leaves out.
void print_cpu_models(std::FILE* out);
// The model named `name`, or nullptr after printing an error line with the valid names.
const cpu::CpuModel* select_cpu_model(const std::string& name);

}  // namespace monitor
