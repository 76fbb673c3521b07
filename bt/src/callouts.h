// C++ functions translated code calls for privileged and sensitive instructions (the
// semantics themselves are in cpu/). Each returns 0 to resume translated code at the next
// instruction, or 1 to leave to the dispatcher, which then resumes at vcpu.eip or reports
// what the callout recorded (an exception, hlt, an unsupported operation).
#pragma once

#include <cstdint>

#include "cpu/cpu.h"

namespace bt {
class EngineCore;
}

namespace bt::callouts {

#define BT86_CALLOUT(name) uint32_t name(void* vcpu, uint64_t a0, uint64_t a1)
BT86_CALLOUT(port_in);  // a1 = size | port << 8 | from_dx << 31
BT86_CALLOUT(port_out);
BT86_CALLOUT(cpuid);
BT86_CALLOUT(rdtsc);
BT86_CALLOUT(hlt);
BT86_CALLOUT(cli);  // only when not at CPL 0 (CPL 0 is inline)
BT86_CALLOUT(sti);
BT86_CALLOUT(popf);         // a0 = value, a1 = operand size
BT86_CALLOUT(mov_to_cr);    // a0 = value, a1 = cr number
BT86_CALLOUT(mov_from_cr);  // a1 = cr | dest reg << 8
BT86_CALLOUT(mov_to_dr);
BT86_CALLOUT(mov_from_dr);
BT86_CALLOUT(desc_table);  // a0 = offset, a1 = seg | op << 8 (0 lgdt 1 lidt 2 sgdt 3 sidt)
BT86_CALLOUT(lldt_ltr);    // a0 = selector, a1 = 0 lldt / 1 ltr
BT86_CALLOUT(store_sys);   // a0 = offset, a1 = which | is_mem << 4 | reg << 8 | seg << 16
BT86_CALLOUT(lmsw);        // a0 = value
BT86_CALLOUT(clts);
BT86_CALLOUT(invlpg);    // a0 = offset, a1 = seg
BT86_CALLOUT(cache_op);  // wbinvd / invd: privilege check only
BT86_CALLOUT(rdmsr);
BT86_CALLOUT(wrmsr);
BT86_CALLOUT(rdpmc);
BT86_CALLOUT(load_segment);      // a0 = selector, a1 = seg
BT86_CALLOUT(pop_segment);       // a0 = selector, a1 = seg | size << 8
BT86_CALLOUT(load_far_pointer);  // a0 = offset, a1 = dest seg | reg << 8 | mem seg << 16
BT86_CALLOUT(far_jmp);           // a0 = offset, a1 = selector
BT86_CALLOUT(far_jmp_mem);       // a0 = offset of m16:32, a1 = mem seg
BT86_CALLOUT(far_call);
BT86_CALLOUT(far_call_mem);
BT86_CALLOUT(far_ret);  // a1 = bytes to pop
BT86_CALLOUT(iret);
BT86_CALLOUT(bcd);        // a1 = op | imm << 8 (0 daa 1 das 2 aaa 3 aas 4 aam 5 aad 6 salc)
BT86_CALLOUT(bound);      // a0 = offset, a1 = reg | mem seg << 8 | size << 16
BT86_CALLOUT(string_io);  // ins/outs (string_io.cpp)
// selector_callouts.cpp
BT86_CALLOUT(selector_query);  // a0 = selector, a1 = op | dest reg << 8 | size << 16
                               // (op: 0 lar 1 lsl 2 verr 3 verw)
BT86_CALLOUT(arpl);  // a0 = offset (memory form), a1 = src reg | dest reg << 8 | is_mem << 16
                     // | seg << 20
BT86_CALLOUT(watch_begin);  // a0 = offset, a1 = seg (WriteWatch)
BT86_CALLOUT(watch_end);
// fpu_callouts.cpp
BT86_CALLOUT(fpu_gate);  // a1 = cpu::FpuClass; through Runtime::fpu_callout
BT86_CALLOUT(
    fpu_store);  // a0 = offset, a1 = seg | op << 8 | op16 << 16 (0 fnsave 1 fnstenv 2 fxsave)
BT86_CALLOUT(fpu_load);  // a0 = offset, a1 = seg | op << 8 (0 fxrstor 1 ldmxcsr)
#undef BT86_CALLOUT

}  // namespace bt::callouts

namespace bt::callouts {
// The common tail of a callout: a fault becomes a guest exception at the instruction; success
// resumes translated code (0) or, with `leave`, leaves at the next instruction (1).
uint32_t finish_callout(EngineCore& e, const cpu::MaybeFault& f, bool leave);
}  // namespace bt::callouts

namespace bt {
// Kept outside the namespace for the emitters that declared them first.
uint32_t popf_callout(void* vp, uint64_t a0, uint64_t a1);
uint32_t pop_segment_callout(void* vp, uint64_t a0, uint64_t a1);
}  // namespace bt
