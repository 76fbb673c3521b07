// A guest's symbol table from a System.map (`nm -n` output: "address type name" per line),
// to name guest code in perf maps as function+offset; for a Linux kernel that KASLR moved, at
// the offset where it runs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kaslr_offset.h"

namespace monitor {

class GuestSymbols {
 public:
  GuestSymbols() = default;
  // Throws OptionError naming the file and line when it cannot be read or parsed.
  explicit GuestSymbols(const std::string& path);
  // "name+0xoff" for the code symbol at or below `eip` minus the kernel's relocation offset (0
  // until observe() learned it), or "" when there is none.
  std::string name(uint32_t eip) const;
  size_t size() const { return syms_.size(); }
  // Each unit made (its EIP and guest bytes): a Linux kernel with startup_32 in the map that
  // KASLR moved is recognised by its entry (kaslr_offset.h). True when the offset became known.
  bool observe(uint32_t eip, const std::vector<uint8_t>& code);
  uint32_t offset() const { return kaslr_ && kaslr_->offset() ? *kaslr_->offset() : 0; }

 private:
  struct Sym {
    uint32_t addr;
    std::string name;
  };
  std::vector<Sym> syms_;             // text symbols, sorted by address
  std::optional<KaslrOffset> kaslr_;  // a map with startup_32 (a Linux kernel's)
};

}  // namespace monitor
