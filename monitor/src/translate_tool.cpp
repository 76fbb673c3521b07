#include "translate_tool.h"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

#include "bt/engine.h"
#include "cpu/cpu.h"
#include "machine.h"
#include "tc_option.h"

namespace monitor {

namespace {

// Nothing runs: translation reads code bytes only. Any other access is a bug in the tool.
struct NoMemory final : cpu::Memory {
  cpu::MaybeFault read(uint32_t, void*, unsigned, Mode) override {
    throw std::logic_error("bt86 translate: guest memory read");
  }
  cpu::MaybeFault write(uint32_t, const void*, unsigned, Mode) override {
    throw std::logic_error("bt86 translate: guest memory write");
  }
};
struct NoPorts final : cpu::Ports {
  uint32_t in(uint16_t, unsigned) override { throw std::logic_error("bt86 translate: port in"); }
  void out(uint16_t, unsigned, uint32_t) override {
    throw std::logic_error("bt86 translate: port out");
  }
};
struct NoHooks final : cpu::Hooks {
  void paging_changed(uint32_t, uint32_t) override {}
  void cr3_written(uint32_t) override {}
  void invlpg(uint32_t) override {}
};

// The file's bytes at [at, at + size); nothing elsewhere.
class FileCode final : public bt::CodeSource {
 public:
  FileCode(std::vector<uint8_t> bytes, uint32_t at) : bytes_(std::move(bytes)), at_(at) {}
  const uint8_t* code(uint32_t linear, uint32_t& avail) override {
    if (linear < at_ || linear - at_ >= bytes_.size()) return nullptr;
    const uint64_t left = bytes_.size() - (linear - at_);
    avail = uint32_t(std::min<uint64_t>(left, 4096 - (linear & 4095)));
    return bytes_.data() + (linear - at_);
  }
  uint32_t phys_page(uint32_t linear) override { return linear >> 12; }

 private:
  std::vector<uint8_t> bytes_;
  uint32_t at_;
};

}  // namespace

int translate_tool(const TranslateArgs& args) {
  TcPolicy tc;
  try {
    if (!args.tc.empty()) parse_tc(args.tc, tc);
  } catch (const OptionError& e) {
    std::fprintf(stderr, "bt86: error: %s\n", e.what());
    return kExitUsage;
  }
  std::ifstream f(args.file, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "bt86: error: %s: cannot open the code file\n", args.file.c_str());
    return kExitUsage;
  }
  std::vector<uint8_t> bytes(std::istreambuf_iterator<char>(f), {});
  if (bytes.empty() || uint64_t(args.at) + bytes.size() > (1ull << 32)) {
    std::fprintf(stderr, "bt86: error: %s: empty, or it does not fit below 4 GiB at %#x\n",
                 args.file.c_str(), args.at);
    return kExitUsage;
  }
  const uint32_t end = args.at + uint32_t(bytes.size());
  cpu::Vcpu v;
  NoMemory mem;
  NoPorts ports;
  NoHooks hooks;
  cpu::Cpu cpu(v, mem, ports, hooks);
  cpu.reset_multiboot(args.at, 0, 0);  // ring 0, flat 32-bit protected mode, paging off
  FileCode src(std::move(bytes), args.at);
  bt::Engine engine(cpu, src, tc.engine);
  engine.set_stop_eip(end);  // the last unit ends at the end of the file
  uint32_t run_end = 0;      // where the unit's first run of adjacent instructions ends
  engine.set_unit_observer([&](const bt::UnitRecord& u) {
    std::fputs(bt::format_unit(u, !args.absolute).c_str(), stdout);
    run_end = u.eip;
    for (size_t i = 0; i < u.insns.size() && u.insns[i].second == run_end; ++i)
      run_end += u.insn_lengths[i];
  });
  std::printf("; bt86 translate %s at %#010x (%u bytes), ring 0, flat, paging off\n\n",
              args.file.c_str(), args.at, end - args.at);
  // A linear sweep: each unit starts where the previous one's adjacent instructions end (with
  // superblocks, the code after a folded jump starts a unit of its own too).
  for (uint32_t eip = args.at; eip < end;) {
    engine.translate_for_bench(eip);
    if (run_end <= eip) {  // the first instruction could not be decoded: #UD, nothing more
      std::printf("; stopped at %#010x: no instruction decodes there\n", eip);
      break;
    }
    eip = run_end;
  }
  return 0;
}

}  // namespace monitor
