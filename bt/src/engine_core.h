// The engine's internal state, shared by the dispatcher, the translator, the callouts and the
// fault handler.
#pragma once

#include <Zydis/Zydis.h>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "bt/engine.h"
#include "code_cache.h"
#include "runtime.h"
#include "translator.h"

namespace bt {

class EngineCore {
 public:
  EngineCore(cpu::Cpu& cpu, CodeSource& src, const Options& opt);
  ~EngineCore();

  RunExit run(bool progress, bool single = false, bool keep_single = false);
  Unit* translate(uint32_t eip, uint64_t key);
  void flush();
  void unlink();
  uint64_t mode_key() const;

  // Callouts record here why they asked to leave translated code.
  void request_exit(RunExit e) { request_ = std::move(e); }
  void request_continue() { request_.reset(); }

  cpu::Cpu& cpu;
  cpu::Vcpu& v;
  CodeSource& src;
  Options opt;
  CodeCache cache;
  Runtime rt;
  Stats stats;
  std::vector<StaticExit> static_exits;
  std::optional<uint32_t> stop_eip;
  std::function<bool(uint32_t)> yield_check;
  WriteWatch watch;
  ZydisDecoder decoder;

 private:
  RunExit exit_for_fault();
  bool decode(uint32_t eip, Insn& in, std::string& err);
  void jc_insert(uint32_t eip, Unit* u);

  struct Link {
    uint8_t* site;       // a patched rel32
    int32_t stub_rel32;  // what it held before: the jump to its exit stub
  };
  std::vector<Link> links_;
  std::unique_ptr<JumpCacheEntry[]> jc_;
  uint64_t generation_ = 1;
  uint64_t last_mode_ = ~0ull;
  std::optional<RunExit> request_;
  std::vector<uint8_t> fetch_buf_;
};

// Fault information the signal handler leaves for the dispatcher.
struct HostFault {
  int signo = 0;
  int trapno = -1;
  uint64_t err = 0;
  uint64_t address = 0;
  uint32_t eip = 0;
};
HostFault& last_host_fault();
void install_fault_handlers(EngineCore& core);
void remove_fault_handlers();

}  // namespace bt
