// Far jmp/call/ret (SDM Vol. 2 JMP, CALL, RET): to code segments, through call gates to the
// same privilege, and far returns to the same or an outer ring. Calls through a gate to an inner
// ring, task gates and TSS descriptors (task switches) are not implemented: after the checks
// the part makes before it would switch (which fault as on the part), they stop the VM.
#include <fmt/format.h>

#include "cpu/cpu.h"
#include "outer_return.h"

namespace cpu {

MaybeFault Cpu::push32(uint32_t& esp, uint32_t value, Memory::Mode m) {
  uint32_t next = esp - 4;
  if (auto f = mem_.write(v_.seg[SS].base + next, &value, 4, m)) return f;
  esp = next;
  return {};
}

MaybeFault Cpu::pop32(uint32_t& esp, uint32_t& value) {
  if (auto f = mem_.read(v_.seg[SS].base + esp, &value, 4, mode())) return f;
  esp += 4;
  return {};
}

// The checks a code-segment descriptor passes as the target of a far transfer that runs at
// `new_cpl`; `out` is the segment to load (nothing changes here).
static MaybeFault check_code_target(uint16_t sel, uint64_t desc, uint8_t new_cpl, Segment& out) {
  Segment seg = Cpu::segment_from_descriptor(sel, desc);
  const uint32_t err = sel & ~3u;
  if (!seg.is_code()) return Fault::gp(err);
  bool conforming = seg.type() & 4;
  if (conforming ? seg.dpl() > new_cpl : seg.dpl() != new_cpl) return Fault::gp(err);
  if (!seg.present()) return Fault{kNP, true, err};
  if (!seg.db()) throw Unsupported{"16-bit code segment"};
  seg.sel = uint16_t((sel & ~3u) | new_cpl);
  seg.attr |= 1;
  out = seg;
  return {};
}

// Checks a code-segment descriptor as the target of a far transfer and loads it.
MaybeFault Cpu::load_cs(uint16_t sel, uint64_t desc, uint8_t new_cpl) {
  Segment seg;
  if (auto f = check_code_target(sel, desc, new_cpl, seg)) return f;
  v_.load_segment_cache(CS, seg);
  v_.cpl = new_cpl;
  return {};
}

namespace {
// System descriptor types (S = 0) a far jmp/call may name.
bool is_call_gate(uint8_t type) {
  return type == 0x4 || type == 0xc;
}
bool is_tss(uint8_t type) {
  return type == 0x1 || type == 0x3 || type == 0x9 || type == 0xb;
}

// What a far jmp/call to `sel` goes to after the checks of the selector and the descriptor it
// names (SDM JMP/CALL, protected mode): a code segment, or the code segment a same-privilege
// call gate names (then `desc` is that segment's descriptor and `offset` the gate's).
struct FarTarget {
  uint16_t sel;
  uint64_t desc;
  uint32_t offset;
};

MaybeFault far_target(Cpu& cpu, uint16_t sel, uint32_t offset, bool call, FarTarget& t) {
  const Vcpu& v = cpu.vcpu();
  const uint32_t err = sel & ~3u;
  if (err == 0) return Fault::gp(0);
  uint64_t desc;
  if (auto f = cpu.read_descriptor(sel, desc)) return f;
  t = {sel, desc, offset};
  if ((desc >> 44) & 1) {
    // A code segment: a non-conforming one needs RPL <= CPL (the rest is check_code_target's).
    if ((sel & 3) > v.cpl && !((desc >> 42) & 1) && ((desc >> 43) & 1)) return Fault::gp(err);
    return {};
  }
  const uint8_t type = (desc >> 40) & 0xf, dpl = (desc >> 45) & 3;
  const bool present = (desc >> 47) & 1;
  if (!is_call_gate(type) && type != 0x5 && !is_tss(type)) return Fault::gp(err);
  if (dpl < v.cpl || dpl < (sel & 3)) return Fault::gp(err);
  if (is_tss(type) && (type & 2)) return Fault::gp(err);  // busy: no switch to it
  if (!present) return Fault{kNP, true, err};
  if (type == 0x5)
    throw Unsupported{fmt::format("far {} through task gate {:#06x}", call ? "call" : "jump", sel)};
  if (is_tss(type))
    throw Unsupported{
        fmt::format("far {} to TSS {:#06x} (a task switch)", call ? "call" : "jump", sel)};
  if (type == 0x4) throw Unsupported{"far transfer through a 16-bit call gate"};
  // A 32-bit call gate: the code segment it names.
  const uint16_t cs = uint16_t(desc >> 16);
  t.sel = cs;
  t.offset = uint32_t((desc & 0xffff) | ((desc >> 32) & 0xffff0000));
  if ((cs & ~3u) == 0) return Fault::gp(0);
  if (auto f = cpu.read_descriptor(cs, t.desc)) return f;
  Segment code = Cpu::segment_from_descriptor(cs, t.desc);
  const bool conforming = code.type() & 4;
  if (!code.is_code() || code.dpl() > v.cpl || (!call && !conforming && code.dpl() != v.cpl))
    return Fault::gp(cs & ~3u);
  if (call && !conforming && code.dpl() < v.cpl) {
    if (!code.present()) return Fault{kNP, true, cs & ~3u};
    throw Unsupported{
        fmt::format("far call through call gate {:#06x} to a more privileged ring", sel)};
  }
  return {};
}
}  // namespace

MaybeFault Cpu::far_jump(uint16_t sel, uint32_t offset) {
  if (!v_.protected_mode()) throw Unsupported{"far jump in real mode"};
  FarTarget t;
  if (auto f = far_target(*this, sel, offset, false, t)) return f;
  const Segment old_cs = v_.seg[CS];
  if (auto f = load_cs(t.sel, t.desc, v_.cpl)) return f;
  // SDM JMP: the offset is checked against the new CS limit (#GP(0)) only after the type,
  // privilege and present checks (done by load_cs).
  if (t.offset > v_.seg[CS].limit) {
    v_.load_segment_cache(CS, old_cs);
    return Fault::gp(0);
  }
  v_.eip = t.offset;
  return {};
}

MaybeFault Cpu::far_call(uint16_t sel, uint32_t offset, uint32_t return_eip) {
  if (!v_.protected_mode()) throw Unsupported{"far call in real mode"};
  FarTarget t;
  if (auto f = far_target(*this, sel, offset, true, t)) return f;
  // SDM CALL: the descriptor checks (load_cs), then the offset against the new CS limit, then
  // the pushes. Same privilege, so the CPL and the access mode of the pushes do not change.
  const Segment old_cs = v_.seg[CS];
  if (auto f = load_cs(t.sel, t.desc, v_.cpl)) return f;
  MaybeFault f;
  uint32_t esp = v_.gpr[ESP];
  if (t.offset > v_.seg[CS].limit) f = Fault::gp(0);
  if (!f) f = push32(esp, old_cs.sel, mode());
  if (!f) f = push32(esp, return_eip, mode());
  if (f) {
    v_.load_segment_cache(CS, old_cs);
    return f;
  }
  v_.gpr[ESP] = esp;
  v_.eip = t.offset;
  return {};
}

MaybeFault Cpu::far_return(uint16_t pop_bytes) {
  if (!v_.protected_mode()) throw Unsupported{"far return in real mode"};
  uint32_t esp = v_.gpr[ESP], eip, cs;
  if (auto f = pop32(esp, eip)) return f;
  if (auto f = pop32(esp, cs)) return f;
  // SDM RET: null, table limit, type, RPL < CPL, DPL, present; then the outer stack; then EIP.
  const uint16_t sel = uint16_t(cs);
  const uint8_t rpl = sel & 3;
  if ((sel & ~3u) == 0) return Fault::gp(0);
  uint64_t desc;
  if (auto f = read_descriptor(sel, desc)) return f;
  if (!((desc >> 44) & 1) || !((desc >> 43) & 1)) return Fault::gp(sel & ~3u);
  if (rpl < v_.cpl) return Fault::gp(sel & ~3u);
  Segment new_cs;
  if (auto f = check_code_target(sel, desc, rpl, new_cs)) return f;
  esp += pop_bytes;  // the parameters on the caller's stack
  Segment new_ss = v_.seg[SS];
  uint32_t new_esp = esp;
  if (rpl > v_.cpl) {
    uint32_t ss;
    if (auto f = pop32(esp, new_esp)) return f;
    if (auto f = pop32(esp, ss)) return f;
    if (auto f = outer_stack(*this, uint16_t(ss), rpl, new_ss)) return f;
    new_esp += pop_bytes;  // and those on the caller's own (outer) stack
  }
  if (eip > new_cs.limit) return Fault::gp(0);

  const uint8_t old_cpl = v_.cpl;
  v_.load_segment_cache(CS, new_cs);
  v_.cpl = rpl;
  v_.eip = eip;
  if (rpl > old_cpl) {
    hooks_.entered_outer_ring(rpl);
    v_.load_segment_cache(SS, new_ss);
    null_data_segments_above(v_, rpl);
  }
  v_.gpr[ESP] = new_esp;
  return {};
}

}  // namespace cpu
