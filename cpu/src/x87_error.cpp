// x87 error reporting (SDM Vol. 1, 8.7 and D.2): a waiting x87 instruction that finds an
// unmasked exception pending raises #MF with CR0.NE = 1. With CR0.NE = 0 (MS-DOS compatibility
// mode) the CPU asserts FERR# instead and, unless IGNNE# is asserted, waits before the
// instruction for an interrupt; a PC routes FERR# to IRQ 13. The board's side is Hooks::ferr.
#include "cpu/cpu.h"
#include "cpu/fpu_state.h"

namespace cpu {

void Cpu::x87_error() {
  if (v_.cr0 & cr0::NE) {
    raise(Fault{kMF});
    return;
  }
  hooks_.ferr();
}

}  // namespace cpu
