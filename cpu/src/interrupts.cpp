// Exception and interrupt delivery through the IDT, iret, and the double/triple-fault rules
// (SDM Vol. 3 §6.12-6.15, Table 6-5). Task gates and virtual-8086 mode stop the VM.
#include <fmt/format.h>

#include "cpu/cpu.h"
#include "outer_return.h"

namespace cpu {

bool is_contributory(uint8_t v) {
  return v == kDE || (v >= kTS && v <= kGP);
}

const char* vector_name(uint8_t v) {
  static const char* names[] = {"#DE", "#DB", "NMI",  "#BP", "#OF", "#BR", "#UD",
                                "#NM", "#DF", "#MF9", "#TS", "#NP", "#SS", "#GP",
                                "#PF", "#15", "#MF",  "#AC", "#MC", "#XM"};
  return v < std::size(names) ? names[v] : "interrupt";
}

MaybeFault Cpu::deliver(uint8_t vector, bool has_error, uint32_t error, uint32_t return_eip,
                        bool software, bool external) {
  if (!v_.protected_mode()) throw Unsupported{"interrupt delivery in real mode"};
  const uint32_t ext = external ? 1 : 0;
  const uint32_t idt_err = vector * 8u + 2 + ext;
  if (vector * 8u + 7 > v_.idtr.limit) return Fault::gp(idt_err);
  uint64_t gate;
  if (auto f = mem_.read(v_.idtr.base + vector * 8u, &gate, 8, Memory::Mode::Supervisor)) return f;
  const uint8_t type = (gate >> 40) & 0x1f;  // with the S bit, which must be 0
  const uint8_t gate_dpl = (gate >> 45) & 3;
  if (type == 0x05) throw Unsupported{fmt::format("task gate in IDT vector {}", vector)};
  if (type != 0x0e && type != 0x0f) {
    if (type == 0x06 || type == 0x07) throw Unsupported{"16-bit interrupt gate"};
    return Fault::gp(idt_err);
  }
  if (software && gate_dpl < v_.cpl) return Fault::gp(vector * 8u + 2);
  if (!((gate >> 47) & 1)) return Fault{kNP, true, idt_err};
  const uint16_t sel = uint16_t(gate >> 16);
  const uint32_t offset = uint32_t((gate & 0xffff) | ((gate >> 32) & 0xffff0000));
  if ((sel & ~3u) == 0) return Fault::gp(ext);
  uint64_t desc;
  if (auto f = read_descriptor(sel, desc)) {
    // SDM INT n: a handler selector outside the descriptor table is #GP(selector + EXT).
    if (f->vector == kGP) f->error |= ext;
    return f;
  }
  Segment cs = segment_from_descriptor(sel, desc);
  if (!cs.is_code() || cs.dpl() > v_.cpl) return Fault::gp((sel & ~3u) + ext);
  if (!cs.present()) return Fault{kNP, true, (sel & ~3u) + ext};
  const bool conforming = cs.type() & 4;
  const uint8_t new_cpl = conforming ? v_.cpl : cs.dpl();
  const uint32_t old_eflags = v_.read_eflags();

  uint32_t esp;
  Segment new_ss = v_.seg[SS];
  const bool ring_switch = new_cpl < v_.cpl;
  if (ring_switch) {
    // The inner stack comes from the 32-bit TSS (SS0:ESP0 at offsets 4 and 8, ring n at 8n).
    // TR as a reset leaves it (never loaded) is unusable: its limit 0 makes this #TS.
    if (v_.tr.type() == 0x1 || v_.tr.type() == 0x3) throw Unsupported{"16-bit TSS"};
    uint32_t slot = 4 + 8u * new_cpl;
    if (slot + 5 > v_.tr.limit) return Fault{kTS, true, (v_.tr.sel & ~3u) + ext};
    uint32_t new_esp;
    uint16_t ss_sel;
    if (auto f = mem_.read(v_.tr.base + slot, &new_esp, 4, Memory::Mode::Supervisor)) return f;
    if (auto f = mem_.read(v_.tr.base + slot + 4, &ss_sel, 2, Memory::Mode::Supervisor)) return f;
    if ((ss_sel & ~3u) == 0) return Fault{kTS, true, ext};
    uint64_t ss_desc;
    if (auto f = read_descriptor(ss_sel, ss_desc)) return Fault{kTS, true, (ss_sel & ~3u) + ext};
    new_ss = segment_from_descriptor(ss_sel, ss_desc);
    bool writable_data = new_ss.s() && !(new_ss.type() & 8) && (new_ss.type() & 2);
    if ((ss_sel & 3) != new_cpl || new_ss.dpl() != new_cpl || !writable_data)
      return Fault{kTS, true, (ss_sel & ~3u) + ext};
    if (!new_ss.present()) return Fault{kSS, true, (ss_sel & ~3u) + ext};
    esp = new_esp;
  } else {
    esp = v_.gpr[ESP];
  }

  // SDM INT n: "IF instruction pointer from gate is not within new code-segment limits THEN
  // #GP(EXT)", checked after the new stack and before anything is pushed.
  if (offset > cs.limit) return Fault::gp(ext);

  // Build the frame in a buffer and write it once, so a fault leaves the guest state untouched.
  uint32_t frame[6];
  int n = 0;
  if (has_error) frame[n++] = error;
  frame[n++] = return_eip;
  frame[n++] = v_.seg[CS].sel;
  frame[n++] = old_eflags;
  if (ring_switch) {
    frame[n++] = v_.gpr[ESP];
    frame[n++] = v_.seg[SS].sel;
  }
  uint32_t new_esp = esp - 4u * n;
  // The pushes are made at the new CPL: user-mode accesses for a ring 3 handler (SDM Vol. 3
  // §4.6: only descriptor-table and TSS accesses are implicitly supervisor).
  const auto wmode = new_cpl == 3 ? Memory::Mode::User : Memory::Mode::Supervisor;
  if (auto f = mem_.write(new_ss.base + new_esp, frame, 4u * n, wmode)) {
    if (f->vector != kPF) return Fault{kSS, true, ring_switch ? (new_ss.sel & ~3u) + ext : ext};
    return f;
  }

  if (ring_switch) v_.load_segment_cache(SS, new_ss);
  cs.sel = uint16_t((sel & ~3u) | new_cpl);
  v_.load_segment_cache(CS, cs);
  v_.cpl = new_cpl;
  if (ring_switch) hooks_.entered_inner_ring(new_cpl);
  v_.gpr[ESP] = new_esp;
  v_.eip = offset;
  v_.eflags &= ~(fl::TF | fl::NT | fl::RF | fl::VM);
  if (type == 0x0e) v_.set_if(false);
  v_.halted = false;
  v_.irq_shadow = false;  // delivery happens at an instruction boundary
  return {};
}

// Delivers an event and escalates faults raised while delivering it.
static bool benign(uint8_t v) {
  return !is_contributory(v) && v != kPF;
}

void Cpu::raise(const Fault& first) {
  FaultChain chain;
  chain.start(first);
  escalate(first, chain);
}

void Cpu::escalate(const Fault& first, FaultChain& chain) {
  uint8_t vector = first.vector;
  bool has_error = first.has_error;
  uint32_t error = first.error;
  if (vector == kPF) v_.cr2 = first.cr2;
  if (vector == kDB) v_.dr[6] |= first.dr6;  // the P6 never clears DR6: the handler does
  for (int depth = 0;; ++depth) {
    // external = true: a fault while delivering an exception occurred "during delivery of an
    // event external to the program, such as ... an earlier exception" (SDM Vol. 3 §6.13), so
    // its error code has EXT = 1.
    auto f = deliver(vector, has_error, error, v_.eip, false, true);
    if (!f) return;
    const bool to_df = vector != kDF && !benign(vector) && !benign(f->vector) &&
                       !(vector == kDE && f->vector == kPF) &&
                       !(is_contributory(vector) && f->vector == kPF);
    chain.add(*f, to_df);
    if (vector == kDF) {
      shutdown_ = true;
      shutdown_reason_ = fmt::format(
          "triple fault at {:04x}:{:08x} (CS:EIP): {}\n  (A -> B: B was raised while delivering "
          "A; => the double fault they make)",
          v_.seg[CS].sel, v_.eip, chain.describe());
      return;
    }
    if (f->vector == kPF) v_.cr2 = f->cr2;
    if (to_df) {
      vector = kDF;
      has_error = true;
      error = 0;
    } else {
      vector = f->vector;
      has_error = f->has_error;
      error = f->error;
    }
    if (depth > 4) {  // benign faults on every delivery attempt: the CPU would loop; we stop
      shutdown_ = true;
      shutdown_reason_ = fmt::format("endless exception delivery at {:04x}:{:08x}: {}",
                                     v_.seg[CS].sel, v_.eip, chain.describe());
      return;
    }
  }
}

void Cpu::deliver_interrupt(uint8_t vector) {
  v_.halted = false;
  if (auto f = deliver(vector, false, 0, v_.eip, false, true)) {
    FaultChain chain;
    chain.start(Fault{vector}, FaultChain::Origin::External);
    chain.add(*f, false);
    escalate(*f, chain);
  }
}

MaybeFault Cpu::software_interrupt(uint8_t vector, uint32_t next_eip, bool is_int_n) {
  (void)is_int_n;  // matters only for VME/v86 mode, which is not implemented
  auto f = deliver(vector, false, 0, next_eip, true, false);
  if (f) {  // the fault reports the int instruction itself (v_.eip)
    FaultChain chain;
    chain.start(Fault{vector}, FaultChain::Origin::Software);
    chain.add(*f, false);
    escalate(*f, chain);
  }
  return {};
}

MaybeFault Cpu::iret() {
  if (!v_.protected_mode()) throw Unsupported{"iret in real mode"};
  if (v_.eflags & fl::NT) throw Unsupported{"iret with NT set (task return)"};
  uint32_t esp = v_.gpr[ESP], eip, cs, flags;
  if (auto f = pop32(esp, eip)) return f;
  if (auto f = pop32(esp, cs)) return f;
  if (auto f = pop32(esp, flags)) return f;
  if ((flags & fl::VM) && v_.cpl == 0) throw Unsupported{"iret to virtual-8086 mode"};
  const uint16_t sel = uint16_t(cs);
  const uint8_t rpl = sel & 3;
  if ((sel & ~3u) == 0) return Fault::gp(0);
  if (rpl < v_.cpl) return Fault::gp(sel & ~3u);
  uint64_t desc;
  if (auto f = read_descriptor(sel, desc)) return f;
  Segment new_cs = segment_from_descriptor(sel, desc);
  if (!new_cs.is_code()) return Fault::gp(sel & ~3u);
  bool conforming = new_cs.type() & 4;
  if (conforming ? new_cs.dpl() > rpl : new_cs.dpl() != rpl) return Fault::gp(sel & ~3u);
  if (!new_cs.present()) return Fault{kNP, true, sel & ~3u};

  Segment new_ss = v_.seg[SS];
  uint32_t new_esp = esp;
  if (rpl > v_.cpl) {
    uint32_t ss;
    if (auto f = pop32(esp, new_esp)) return f;
    if (auto f = pop32(esp, ss)) return f;
    if (auto f = outer_stack(*this, uint16_t(ss), rpl, new_ss)) return f;
  }
  // SDM IRET: "IF tempEIP is not within CS limit THEN #GP(0)", after the CS (and SS) checks.
  if (eip > new_cs.limit) return Fault::gp(0);

  // EFLAGS: IOPL changes only at CPL 0, IF only when CPL <= IOPL (checked at the old CPL).
  const uint8_t old_cpl = v_.cpl;
  const uint32_t old = v_.read_eflags();
  const uint8_t iopl = (old >> 12) & 3;
  uint32_t mask = fl::ARITH | fl::TF | fl::DF | fl::NT | fl::RF | fl::AC | fl::ID;
  if (old_cpl == 0) mask |= fl::IOPL | fl::VIF | fl::VIP;
  if (old_cpl <= iopl) mask |= fl::IF;
  v_.write_eflags((old & ~mask) | (flags & mask));

  new_cs.sel = sel;
  new_cs.attr |= 1;
  v_.load_segment_cache(CS, new_cs);
  v_.cpl = rpl;
  v_.eip = eip;
  v_.irq_shadow = false;  // iret completes the instruction after any mov ss
  if (rpl > old_cpl) {
    hooks_.entered_outer_ring(rpl);
    v_.load_segment_cache(SS, new_ss);
    v_.gpr[ESP] = new_esp;
    null_data_segments_above(v_, rpl);
  } else {
    v_.gpr[ESP] = esp;
  }
  return {};
}

}  // namespace cpu
