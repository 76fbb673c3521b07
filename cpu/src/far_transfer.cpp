// Far jmp/call/ret to code segments at the same privilege level. Call gates, task switches and
// returns to an outer ring through retf are not implemented yet: they stop the VM (Unsupported).
#include "cpu/cpu.h"

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

// Checks a code-segment descriptor as the target of a same-privilege far transfer and loads it.
MaybeFault Cpu::load_cs(uint16_t sel, uint64_t desc, uint8_t new_cpl) {
  Segment seg = segment_from_descriptor(sel, desc);
  const uint32_t err = sel & ~3u;
  if (!seg.is_code()) return Fault::gp(err);
  bool conforming = seg.type() & 4;
  if (conforming ? seg.dpl() > new_cpl : seg.dpl() != new_cpl) return Fault::gp(err);
  if (!seg.present()) return Fault{kNP, true, err};
  if (!seg.db()) throw Unsupported{"16-bit code segment"};
  seg.sel = uint16_t((sel & ~3u) | new_cpl);
  seg.attr |= 1;
  v_.load_segment_cache(CS, seg);
  v_.cpl = new_cpl;
  return {};
}

static MaybeFault check_far_target(Cpu& cpu, uint16_t sel, uint64_t& desc) {
  if ((sel & ~3u) == 0) return Fault::gp(0);
  if (auto f = cpu.read_descriptor(sel, desc)) return f;
  if (!((desc >> 44) & 1)) throw Unsupported{"far transfer through a gate or TSS descriptor"};
  return {};
}

MaybeFault Cpu::far_jump(uint16_t sel, uint32_t offset) {
  if (!v_.protected_mode()) throw Unsupported{"far jump in real mode"};
  uint64_t desc;
  if (auto f = check_far_target(*this, sel, desc)) return f;
  if ((sel & 3) > v_.cpl && !((desc >> 42) & 1)) return Fault::gp(sel & ~3u);
  const Segment old_cs = v_.seg[CS];
  if (auto f = load_cs(sel, desc, v_.cpl)) return f;
  // SDM JMP: the offset is checked against the new CS limit (#GP(0)) only after the type,
  // privilege and present checks (done by load_cs).
  if (offset > v_.seg[CS].limit) {
    v_.load_segment_cache(CS, old_cs);
    return Fault::gp(0);
  }
  v_.eip = offset;
  return {};
}

MaybeFault Cpu::far_call(uint16_t sel, uint32_t offset, uint32_t return_eip) {
  if (!v_.protected_mode()) throw Unsupported{"far call in real mode"};
  uint64_t desc;
  if (auto f = check_far_target(*this, sel, desc)) return f;
  if ((sel & 3) > v_.cpl && !((desc >> 42) & 1)) return Fault::gp(sel & ~3u);
  // SDM CALL: the descriptor checks (load_cs), then the offset against the new CS limit, then
  // the pushes. Same privilege, so the CPL and the access mode of the pushes do not change.
  const Segment old_cs = v_.seg[CS];
  if (auto f = load_cs(sel, desc, v_.cpl)) return f;
  MaybeFault f;
  uint32_t esp = v_.gpr[ESP];
  if (offset > v_.seg[CS].limit) f = Fault::gp(0);
  if (!f) f = push32(esp, old_cs.sel, mode());
  if (!f) f = push32(esp, return_eip, mode());
  if (f) {
    v_.load_segment_cache(CS, old_cs);
    return f;
  }
  v_.gpr[ESP] = esp;
  v_.eip = offset;
  return {};
}

MaybeFault Cpu::far_return(uint16_t pop_bytes) {
  if (!v_.protected_mode()) throw Unsupported{"far return in real mode"};
  uint32_t esp = v_.gpr[ESP], eip, cs;
  if (auto f = pop32(esp, eip)) return f;
  if (auto f = pop32(esp, cs)) return f;
  uint16_t sel = uint16_t(cs);
  if ((sel & 3) < v_.cpl) return Fault::gp(sel & ~3u);
  if ((sel & 3) > v_.cpl) throw Unsupported{"far return to an outer privilege level"};
  uint64_t desc;
  if (auto f = check_far_target(*this, sel, desc)) return f;
  const Segment old_cs = v_.seg[CS];
  if (auto f = load_cs(sel, desc, v_.cpl)) return f;
  // SDM RET: "IF the return instruction pointer is not within the return code segment limit
  // THEN #GP(0)", after the descriptor checks.
  if (eip > v_.seg[CS].limit) {
    v_.load_segment_cache(CS, old_cs);
    return Fault::gp(0);
  }
  v_.gpr[ESP] = esp + pop_bytes;
  v_.eip = eip;
  return {};
}

}  // namespace cpu
