// A guest's symbol table from a System.map (`nm -n` output: "address type name" per line),
// to name guest code in perf maps as function+offset.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace monitor {

class GuestSymbols {
 public:
  GuestSymbols() = default;
  // Throws OptionError naming the file and line when it cannot be read or parsed.
  explicit GuestSymbols(const std::string& path);
  // "name+0xoff" for the code symbol at or below `eip`, or "" when there is none.
  std::string name(uint32_t eip) const;
  size_t size() const { return syms_.size(); }

 private:
  struct Sym {
    uint32_t addr;
    std::string name;
  };
  std::vector<Sym> syms_;  // text symbols, sorted by address
};

}  // namespace monitor
