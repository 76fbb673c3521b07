// A SIGFPE from translated code: which guest exception it is. The host reports the vector in
// the signal's trap number: #DE from div/idiv, #MF (16) from an unmasked x87 exception at the
// next waiting x87 instruction, #XM (19) from an unmasked SIMD exception.
#include "cpu/fpu_state.h"
#include "engine_core.h"

namespace bt {

RunExit EngineCore::exit_for_fpu_error(int trapno) {
  RunExit x;
  x.kind = RunExit::Kind::Exception;
  switch (trapno) {
    case cpu::kMF:
      if (!(v.cr0 & cpu::cr0::NE)) {
        // A PC routes FERR# to IRQ 13 through the PIC; bt86 does not model that yet.
        x.kind = RunExit::Kind::Unsupported;
        x.what =
            "x87 floating-point error with CR0.NE = 0 (a PC would raise IRQ 13 through "
            "FERR#; not implemented)";
        return x;
      }
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
