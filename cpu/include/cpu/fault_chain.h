// The events of one delivery attempt, each raised while delivering the one before, up to a
// triple fault: what the VM-stop report shows for a shutdown (SDM Vol. 3 §6.15, interrupt 8).
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace cpu {

struct Fault;

class FaultChain {
 public:
  enum class Origin : uint8_t { Exception, External, Software };
  // The event whose delivery started it all.
  void start(const Fault& f, Origin origin = Origin::Exception);
  // `f` was raised while delivering the last event; `escalated`: the pair is a #DF.
  void add(const Fault& f, bool escalated);
  // "#PF(error 0002, CR2 00400000) -> #PF(error 0000, CR2 0000f000) => #DF(error 0000) -> ..."
  std::string describe() const;

 private:
  struct Link {
    uint8_t vector = 0;
    bool has_error = false;
    uint32_t error = 0;
    uint32_t cr2 = 0;
    Origin origin = Origin::Exception;
    bool escalated = false;  // a #DF made from this fault and the one before
  };
  static constexpr unsigned kMax = 12;  // raise() gives up after a few rounds
  std::array<Link, kMax> links_{};
  unsigned n_ = 0;
  unsigned dropped_ = 0;
};

}  // namespace cpu
