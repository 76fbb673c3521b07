// What the monitor does with each translation unit made, when asked: writes its listing
// (--dump-translations) and its perf map entry (--perf-map).
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "bt/unit_record.h"
#include "guest_symbols.h"
#include "tc_tools.h"

namespace monitor {

class UnitTools {
 public:
  // Opens every output now, so that a bad path fails before the guest starts (OptionError).
  explicit UnitTools(const TcToolsConfig& cfg);
  ~UnitTools();
  UnitTools(const UnitTools&) = delete;
  UnitTools& operator=(const UnitTools&) = delete;

  bool active() const { return dump_ || !dump_dir_.empty() || perf_; }
  void on_unit(const bt::UnitRecord& u);
  void flush();

 private:
  void dump(const bt::UnitRecord& u);
  TcToolsConfig cfg_;
  std::FILE* dump_ = nullptr;  // one file for all units
  std::string dump_dir_;       // or a file per unit here
  std::FILE* perf_ = nullptr;
  GuestSymbols symbols_;
};

// /tmp/perf-PID.map for this process (perf's convention for JIT code).
std::string perf_map_path();

}  // namespace monitor
