// A process's mappings as /proc/<pid>/maps lists them (the confined direct-execution process's
// address space, checked from the outside).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace de_test {

struct Mapping {
  uint64_t start = 0, end = 0;
  std::string perms;
  uint64_t offset = 0;
  std::string path;
};

inline std::vector<Mapping> maps_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
  std::vector<Mapping> out;
  std::string line;
  while (std::getline(in, line)) {
    Mapping m;
    char perms[8] = {};
    unsigned long long s, e, off;
    int path_at = 0;
    if (sscanf(line.c_str(), "%llx-%llx %7s %llx %*s %*s %n", &s, &e, perms, &off, &path_at) < 4)
      continue;
    m.start = s;
    m.end = e;
    m.perms = perms;
    m.offset = off;
    m.path = path_at ? line.substr(size_t(path_at)) : "";
    out.push_back(m);
  }
  return out;
}

inline std::optional<Mapping> find_at(const std::vector<Mapping>& maps, uint64_t start) {
  for (const Mapping& m : maps)
    if (m.start == start) return m;
  return std::nullopt;
}

}  // namespace de_test
