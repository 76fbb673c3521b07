#include "bench_arena.h"

#include <elf.h>
#include <sys/mman.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace bench {

Arena::Arena(uint32_t b, uint32_t s) : base(b), size(s) {
  void* p = mmap(at(b), s, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                 -1, 0);
  if (p != at(b)) throw std::runtime_error("cannot map the benchmark arena");
}
Arena::~Arena() { munmap(at(base), size); }

cpu::MaybeFault Machine::read(uint32_t a, void* d, unsigned n, Mode) {
  std::memcpy(d, arena.at(a), n);
  return {};
}
cpu::MaybeFault Machine::write(uint32_t a, const void* s, unsigned n, Mode) {
  std::memcpy(arena.at(a), s, n);
  return {};
}
const uint8_t* Machine::code(uint32_t linear, uint32_t& avail) {
  if (linear < arena.base || linear >= arena.base + arena.size) return nullptr;
  avail = 4096 - (linear & 4095);
  return arena.at(linear);
}

std::vector<std::pair<uint32_t, std::vector<uint8_t>>> load_code_segments(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<uint8_t> img((std::istreambuf_iterator<char>(f)), {});
  if (img.size() < sizeof(Elf32_Ehdr)) throw std::runtime_error(path + ": cannot read");
  Elf32_Ehdr eh;
  std::memcpy(&eh, img.data(), sizeof eh);
  std::vector<std::pair<uint32_t, std::vector<uint8_t>>> out;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf32_Phdr ph;
    std::memcpy(&ph, img.data() + eh.e_phoff + i * sizeof ph, sizeof ph);
    if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X)) continue;
    out.emplace_back(ph.p_vaddr, std::vector<uint8_t>(img.begin() + ph.p_offset,
                                                      img.begin() + ph.p_offset + ph.p_filesz));
  }
  return out;
}

}  // namespace bench
