// QEMU's -initrd convention for multiboot modules: "file arg,file2 arg2" — items separated by
// commas (",," is a literal comma), each a file path up to the first space; the whole item is
// the module's command line.
#pragma once

#include <string>
#include <vector>

namespace monitor {

struct ModuleSpec {
  std::string path;
  std::string cmdline;
};

// Empty items are skipped.
std::vector<ModuleSpec> parse_module_list(const std::string& list);

}  // namespace monitor
