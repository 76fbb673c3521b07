#include "module_list.h"

namespace monitor {

std::vector<ModuleSpec> parse_module_list(const std::string& list) {
  std::vector<ModuleSpec> out;
  std::string item;
  auto finish = [&] {
    if (!item.empty()) out.push_back({item.substr(0, item.find(' ')), item});
    item.clear();
  };
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i] != ',') {
      item += list[i];
    } else if (i + 1 < list.size() && list[i + 1] == ',') {
      item += ',';
      ++i;
    } else {
      finish();
    }
  }
  finish();
  return out;
}

}  // namespace monitor
