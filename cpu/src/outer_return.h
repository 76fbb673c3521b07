// What iret and far ret share when they return to an outer ring (SDM Vol. 2 IRET, RET:
// RETURN-TO-OUTER-PRIVILEGE-LEVEL).
#pragma once

#include "cpu/cpu.h"

namespace cpu {

// Checks the stack selector popped for a return to ring `rpl`; `out` is the segment to load.
MaybeFault outer_stack(Cpu& cpu, uint16_t ss_sel, uint8_t rpl, Segment& out);

// Data segments the outer ring may not use become null: ES, DS, FS, GS holding data or
// non-conforming code with a DPL below the new CPL.
void null_data_segments_above(Vcpu& v, uint8_t cpl);

}  // namespace cpu
