// x87 errors with CR0.NE = 0 (SDM Vol. 1, D.2.1): the CPU asserts FERR#, which the PC latches
// into IRQ 13, and stops before the waiting instruction until an interrupt comes (the handler
// writes port 0xF0 and usually clears the error; the instruction then runs). With IGNNE#
// asserted (port 0xF0 written while the error is still pending) the instruction runs as if
// nothing were pending.
#include "x87_ferr.h"

#include "cpu/fpu_state.h"

namespace monitor {

namespace {
constexpr uint16_t kEs = 0x0080, kBusy = 0x8000, kFlags = 0x003f;
}

void X87Ferr::error() {
  follow();  // an error cleared since (fnclex ...) lets IGNNE# go first
  if (latch_.ignne()) {
    // The host CPU faults at a waiting instruction whenever an unmasked flag is set: the
    // instruction runs alone with them clear, and gets them back after (after_step).
    const uint16_t fsw = cpu::fpu_get16(v_, cpu::fxs::FSW), fcw = cpu::fpu_get16(v_, cpu::fxs::FCW);
    hidden_ = uint16_t((fsw & ~fcw & kFlags) | kEs | kBusy);
    cpu::fpu_put16(v_, cpu::fxs::FSW, uint16_t(fsw & ~hidden_));
    return;
  }
  latch_.set_ferr(true);
  v_.halted = true;  // frozen at the instruction (EIP stays): an interrupt resumes it there
}

void X87Ferr::after_step() {
  cpu::fpu_put16(v_, cpu::fxs::FSW, uint16_t(cpu::fpu_get16(v_, cpu::fxs::FSW) | hidden_));
  hidden_ = 0;
}

void X87Ferr::follow() {
  if (hidden_) return;  // the flags are out for the step: they are pending still
  // Translated code marks the instructions that clear the status (fnclex ...): an error may
  // have been cleared and raised again since the monitor last looked.
  if (latch_.ferr() && (v_.x87_status_reset || !cpu::x87_error_pending(v_))) latch_.set_ferr(false);
  v_.x87_status_reset = 0;
}

}  // namespace monitor
