// The families of privileged and sensitive instructions that emit_system_op (translator.h)
// dispatches to, one file each, and the helpers they share. Each family returns std::nullopt
// for an instruction that is not one of its own, and otherwise how the unit goes on.
#pragma once

#include <cstdint>
#include <optional>

#include "translator.h"

namespace bt {

// cli/sti, hlt, port I/O, cpuid, rdtsc, control and debug registers, MSRs, caches and the TLB
// (system_ops.cpp).
std::optional<Flow> emit_machine_op(Ctx& c, const Insn& in);
// lgdt/lidt/sgdt/sidt, lldt/ltr, sldt/str/smsw, lar/lsl, verr/verw, arpl (descriptor_ops.cpp).
std::optional<Flow> emit_descriptor_op(Ctx& c, const Insn& in);
// Segment register loads and stores, far jmp/call/ret, iret (segment_ops.cpp).
std::optional<Flow> emit_segment_op(Ctx& c, const Insn& in);
// int n, int3, int1, into, ud0/1/2, sysenter/sysexit, bound (exception_ops.cpp).
std::optional<Flow> emit_exception_op(Ctx& c, const Insn& in);
// daa/das/aaa/aas/aam/aad and salc (bcd_ops.cpp).
std::optional<Flow> emit_bcd_op(Ctx& c, const Insn& in);

// r12d = the 16- or 32-bit value of operand `i` (register or memory).
void value_to_r12(Ctx& c, const Insn& in, int i, unsigned bytes);
// r12d = offset of the memory operand (its segment base is added by the callout).
void ea_to_r12(Ctx& c, const Insn& in);

}  // namespace bt
