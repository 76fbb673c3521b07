// The CPU's FERR# and IGNNE# pins (x87 errors with CR0.NE = 0) on the PC's latch.
#pragma once

#include <cstdint>

#include "cpu/vcpu.h"
#include "devices/ferr_latch.h"

namespace monitor {

class X87Ferr {
 public:
  X87Ferr(cpu::Vcpu& v, devices::FerrLatch& latch) : v_(v), latch_(latch) {}

  // A waiting x87 instruction met an unmasked x87 exception with CR0.NE = 0 (vcpu.eip = it):
  // FERR# and a wait for an interrupt, or, under IGNNE#, the instruction runs alone (below).
  void error();
  // FERR# follows the pending unmasked exceptions (the guest clears them with fnclex, fninit, a
  // state load, ...). Called whenever the monitor holds the state, before the guest runs again.
  void follow();
  // Under IGNNE# the waiting instruction must run although an error is pending, which the host
  // CPU refuses: the pending flags are taken out of the state, the monitor runs that one
  // instruction alone, and after_step() puts them back.
  bool step_alone() const { return hidden_ != 0; }
  void after_step();

 private:
  cpu::Vcpu& v_;
  devices::FerrLatch& latch_;
  uint16_t hidden_ = 0;  // FSW bits taken out for the step
};

}  // namespace monitor
