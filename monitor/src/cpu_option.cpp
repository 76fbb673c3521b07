#include "cpu_option.h"

#include <fmt/format.h>

namespace monitor {

void print_cpu_models(std::FILE* out) {
  for (const cpu::CpuModel& m : cpu::cpu_models()) {
    const bool is_default = &m == &cpu::default_cpu_model();
    fmt::print(out, "{:<10} {}{}\n", m.name, m.description, is_default ? " (default)" : "");
    fmt::print(out, "{:<10}   features: {}\n", "", cpu::feature_names(m.features));
    if (uint32_t missing = m.part_features & ~m.features)
      fmt::print(out, "{:<10}   the part also has (not modelled): {}\n", "",
                 cpu::feature_names(missing));
  }
}

const cpu::CpuModel* select_cpu_model(const std::string& name) {
  if (const cpu::CpuModel* m = cpu::find_cpu_model(name)) return m;
  std::string valid;
  for (const cpu::CpuModel& m : cpu::cpu_models()) valid += fmt::format(" {}", m.name);
  fmt::print(stderr, "bt86: error: --cpu {}: unknown CPU model (valid:{}, or help)\n", name, valid);
  return nullptr;
}

}  // namespace monitor
