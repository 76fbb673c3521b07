// A SIGFPE from translated code: which guest exception it is. The host reports the vector in
// the signal's trap number: #DE from div/idiv, #MF (16) from an unmasked x87 exception at the
// next waiting x87 instruction (an x87 error: see cpu::Cpu::x87_error), #XM (19) from an
// unmasked SIMD exception.
#include "cpu/fpu_state.h"
#include "engine_core.h"

namespace bt {

RunExit EngineCore::exit_for_fpu_error(int trapno) {
  RunExit x;
  x.kind = RunExit::Kind::Exception;
  switch (trapno) {
    case cpu::kMF:
      // An x87 error at a waiting instruction: cpu::Cpu::x87_error decides between #MF and
      // FERR# (CR0.NE = 0), for this engine and direct execution alike.
      x.fault = cpu::Fault{cpu::kMF};
      return x;
    case cpu::kXM:
      // Without CR4.OSXMMEXCPT the part raises #UD instead of #XM.
      x.fault = (v.cr4 & cpu::cr4::OSXMMEXCPT) ? cpu::Fault{cpu::kXM} : cpu::Fault::ud();
      return x;
    default:
      x.fault = cpu::Fault{cpu::kDE};
      return x;
  }
}

}  // namespace bt
