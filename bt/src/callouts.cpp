#include "callouts.h"

#include <fmt/format.h>

#include "callout_guard.h"
#include "engine_core.h"

namespace bt::callouts {

namespace {
// Common tail: a fault becomes a guest exception at the instruction (vcpu.eip, stored by the
// call site); success either resumes translated code (0) or leaves at the next instruction.
uint32_t finish(EngineCore& e, const cpu::MaybeFault& f, bool leave) {
  if (f) {
    RunExit x;
    x.kind = RunExit::Kind::Exception;
    x.fault = *f;
    x.next_eip = e.v.callout_next;
    e.request_exit(x);
    return 1;
  }
  e.v.eip = e.v.callout_next;
  if (leave) e.request_continue();
  return leave ? 1 : 0;
}

uint32_t linear(EngineCore& e, uint64_t offset, uint64_t seg) {
  return uint32_t(e.v.seg[seg & 7].base + uint32_t(offset));
}
// Reads an m16:32 far pointer; on a fault records it (leaving) and returns false.
bool read_far_ptr(EngineCore& e, uint64_t a0, uint64_t seg, uint32_t& offset, uint16_t& sel) {
  uint32_t at = linear(e, a0, seg);
  auto mode = access_mode(e.v);
  cpu::MaybeFault f = e.cpu.memory().read(at, &offset, 4, mode);
  if (!f) f = e.cpu.memory().read(at + 4, &sel, 2, mode);
  if (f) finish(e, f, true);
  return !f;
}

void set_reg16_or_32(cpu::Vcpu& v, unsigned reg, unsigned size, uint32_t value) {
  if (size == 4)
    v.gpr[reg] = value;
  else
    v.gpr[reg] = (v.gpr[reg] & ~0xffffu) | (value & 0xffff);
}
}  // namespace

uint32_t finish_callout(EngineCore& e, const cpu::MaybeFault& f, bool leave) {
  return finish(e, f, leave);
}

uint32_t port_in(void* vp, uint64_t, uint64_t a1) {
  return guarded(vp, CalloutKind::PortIn, [&](EngineCore& e, cpu::Cpu& c) {
    unsigned size = a1 & 0xff;
    uint16_t port = (a1 >> 31) ? uint16_t(e.v.gpr[cpu::EDX]) : uint16_t(a1 >> 8);
    uint32_t value = 0;
    auto f = c.in(port, size, value);
    if (!f) {
      uint32_t mask = size == 4 ? ~0u : (1u << (8 * size)) - 1;
      e.v.gpr[cpu::EAX] = (e.v.gpr[cpu::EAX] & ~mask) | (value & mask);
    }
    return finish(e, f, false);
  });
}

uint32_t port_out(void* vp, uint64_t, uint64_t a1) {
  return guarded(vp, CalloutKind::PortOut, [&](EngineCore& e, cpu::Cpu& c) {
    unsigned size = a1 & 0xff;
    uint16_t port = (a1 >> 31) ? uint16_t(e.v.gpr[cpu::EDX]) : uint16_t(a1 >> 8);
    uint32_t mask = size == 4 ? ~0u : (1u << (8 * size)) - 1;
    auto f = c.out(port, size, e.v.gpr[cpu::EAX] & mask);
    // A device may have raised the interrupt line or asked the VM to stop (debug exit).
    return finish(e, f, !f && e.v.pending.any);
  });
}

uint32_t cpuid(void* vp, uint64_t, uint64_t) {
  return guarded(vp, CalloutKind::Cpuid, [&](EngineCore& e, cpu::Cpu& c) {
    c.cpuid();
    return finish(e, {}, false);
  });
}

uint32_t rdtsc(void* vp, uint64_t, uint64_t) {
  return guarded(vp, CalloutKind::Rdtsc,
                 [&](EngineCore& e, cpu::Cpu& c) { return finish(e, c.rdtsc_checked(), false); });
}

uint32_t hlt(void* vp, uint64_t, uint64_t) {
  return guarded(vp, CalloutKind::Halt, [&](EngineCore& e, cpu::Cpu& c) {
    auto f = c.check_cpl0();
    if (f) return finish(e, f, true);
    e.v.eip = e.v.callout_next;
    e.v.halted = true;
    RunExit x;
    x.kind = RunExit::Kind::Halt;
    e.request_exit(x);
    return 1u;
  });
}

uint32_t cli(void* vp, uint64_t, uint64_t) {
  return guarded(vp, CalloutKind::CliSti, [&](EngineCore& e, cpu::Cpu& c) {
    auto f = c.iopl_sensitive();
    if (!f) e.v.set_if(false);
    return finish(e, f, false);
  });
}

uint32_t sti(void* vp, uint64_t, uint64_t) {
  return guarded(vp, CalloutKind::CliSti, [&](EngineCore& e, cpu::Cpu& c) {
    auto f = c.iopl_sensitive();
    if (!f && !e.v.if_flag) {
      e.v.set_if(true);
      e.v.irq_shadow = true;  // interrupts wait for the next instruction (it clears this)
    }
    return finish(e, f, false);  // the sti shadow: the unit ends after the next instruction
  });
}

}  // namespace bt::callouts

namespace bt {
uint32_t popf_callout(void* vp, uint64_t a0, uint64_t a1) {
  return callouts::popf(vp, a0, a1);
}
uint32_t pop_segment_callout(void* vp, uint64_t a0, uint64_t a1) {
  return callouts::pop_segment(vp, a0, a1);
}
}  // namespace bt

namespace bt::callouts {

uint32_t popf(void* vp, uint64_t a0, uint64_t a1) {
  return guarded(vp, CalloutKind::Popf, [&](EngineCore& e, cpu::Cpu& c) {
    const bool was_enabled = e.v.if_flag;
    const uint32_t old_tf = e.v.eflags & cpu::fl::TF;
    c.popf(uint32_t(a0), unsigned(a1));
    // Enabling interrupts with one pending: take it now (popf has no interrupt shadow). A TF
    // change changes the mode (single-instruction units): back to the dispatcher, not a chain.
    const bool leave = (!was_enabled && e.v.pending.any) || old_tf != (e.v.eflags & cpu::fl::TF);
    return finish(e, {}, leave);
  });
}

uint32_t mov_to_cr(void* vp, uint64_t a0, uint64_t a1) {
  return guarded(vp, CalloutKind::ControlReg, [&](EngineCore& e, cpu::Cpu& c) {
    return finish(e, c.write_cr(int(a1), uint32_t(a0)), true);
  });
}

uint32_t mov_from_cr(void* vp, uint64_t, uint64_t a1) {
  return guarded(vp, CalloutKind::ControlReg, [&](EngineCore& e, cpu::Cpu& c) {
    uint32_t value = 0;
    auto f = c.read_cr(int(a1 & 0xff), value);
    if (!f) e.v.gpr[(a1 >> 8) & 7] = value;
    return finish(e, f, false);
  });
}

uint32_t mov_to_dr(void* vp, uint64_t a0, uint64_t a1) {
  return guarded(vp, CalloutKind::DebugReg, [&](EngineCore& e, cpu::Cpu& c) {
    return finish(e, c.write_dr(int(a1), uint32_t(a0)), false);
  });
}

uint32_t mov_from_dr(void* vp, uint64_t, uint64_t a1) {
  return guarded(vp, CalloutKind::DebugReg, [&](EngineCore& e, cpu::Cpu& c) {
    uint32_t value = 0;
    auto f = c.read_dr(int(a1 & 0xff), value);
    if (!f) e.v.gpr[(a1 >> 8) & 7] = value;
    return finish(e, f, false);
  });
}

uint32_t desc_table(void* vp, uint64_t a0, uint64_t a1) {
  return guarded(vp, CalloutKind::DescriptorTable, [&](EngineCore& e, cpu::Cpu& c) {
    unsigned op = (a1 >> 8) & 3;
    uint32_t at = linear(e, a0, a1 & 7);
    auto f = op < 2 ? c.lgdt_lidt(op == 1, at) : c.sgdt_sidt(op == 3, at);
    return finish(e, f, false);
  });
}

uint32_t lldt_ltr(void* vp, uint64_t a0, uint64_t a1) {
  return guarded(vp, CalloutKind::DescriptorTable, [&](EngineCore& e, cpu::Cpu& c) {
    auto f = a1 ? c.ltr(uint16_t(a0)) : c.lldt(uint16_t(a0));
    return finish(e, f, false);
  });
}

uint32_t store_sys(void* vp, uint64_t a0, uint64_t a1) {
  return guarded(vp, CalloutKind::DescriptorTable, [&](EngineCore& e, cpu::Cpu& c) {
    unsigned which = a1 & 0xf;
    bool is_mem = (a1 >> 4) & 1;
    unsigned reg = (a1 >> 8) & 7;
    unsigned size = (a1 >> 24) & 0xff;
    uint16_t value = which == 0 ? e.v.ldtr.sel : which == 1 ? e.v.tr.sel : c.smsw();
    if (is_mem) {
      return finish(e, c.memory().write(linear(e, a0, (a1 >> 16) & 7), &value, 2, access_mode(e.v)),
                    false);
    }
    // Register forms zero-extend to 32 bits; smsw r32 stores the whole of CR0 (P6 and later).
    uint32_t full = which == 2 ? e.v.cr0 : value;
    set_reg16_or_32(e.v, reg, size, full);
    return finish(e, {}, false);
  });
}

uint32_t lmsw(void* vp, uint64_t a0, uint64_t) {
  return guarded(vp, CalloutKind::ControlReg,
                 [&](EngineCore& e, cpu::Cpu& c) { return finish(e, c.lmsw(uint16_t(a0)), true); });
}

uint32_t clts(void* vp, uint64_t, uint64_t) {
  return guarded(vp, CalloutKind::ControlReg,
                 [&](EngineCore& e, cpu::Cpu& c) { return finish(e, c.clts(), false); });
}

uint32_t invlpg(void* vp, uint64_t a0, uint64_t a1) {
  return guarded(vp, CalloutKind::CacheTlb, [&](EngineCore& e, cpu::Cpu& c) {
    return finish(e, c.invlpg(linear(e, a0, a1)), true);
  });
}

// The watch's callbacks run in the middle of a unit: they resume it, whatever they do; an
// error in them (a host mapping refused) stops the VM rather than unwinding through JIT frames.
template <typename F>
uint32_t watch_call(void* vp, F&& call) {
  return guarded(vp, CalloutKind::WatchedWrite, [&](EngineCore& e, cpu::Cpu&) -> uint32_t {
    try {
      call(e);
    } catch (const std::exception& err) {
      throw cpu::Unsupported{std::string("watching a guest write: ") + err.what()};
    }
    return 0;
  });
}

uint32_t watch_begin(void* vp, uint64_t a0, uint64_t a1) {
  std::optional<cpu::Fault> fault;
  const uint32_t r = watch_call(vp, [&](EngineCore& e) {
    const uint32_t at = linear(e, a0, a1 & 0xff);
    const WatchedAccess w = e.watch.begin(at, unsigned(a1 >> 8) & 0xff, unsigned(a1 >> 16));
    e.v.watch_host = w.kind == WatchedAccess::Kind::Host ? w.host : uint64_t(at);
    if (w.kind == WatchedAccess::Kind::Fault) fault = w.fault;
  });
  if (r || !fault) return r;
  return finish(core_of(vp), fault, true);  // the instruction faults before any access
}

uint32_t watch_end(void* vp, uint64_t, uint64_t) {
  return watch_call(vp, [](EngineCore& e) { e.watch.end(); });
}

uint32_t cache_op(void* vp, uint64_t, uint64_t) {
  return guarded(vp, CalloutKind::CacheTlb,
                 [&](EngineCore& e, cpu::Cpu& c) { return finish(e, c.check_cpl0(), false); });
}

uint32_t rdmsr(void* vp, uint64_t, uint64_t) {
  return guarded(vp, CalloutKind::Msr,
                 [&](EngineCore& e, cpu::Cpu& c) { return finish(e, c.rdmsr(), false); });
}

uint32_t wrmsr(void* vp, uint64_t, uint64_t) {
  return guarded(vp, CalloutKind::Msr,
                 [&](EngineCore& e, cpu::Cpu& c) { return finish(e, c.wrmsr(), false); });
}

uint32_t rdpmc(void* vp, uint64_t, uint64_t) {
  return guarded(vp, CalloutKind::Msr,
                 [&](EngineCore& e, cpu::Cpu& c) { return finish(e, c.rdpmc(), false); });
}

uint32_t load_segment(void* vp, uint64_t a0, uint64_t a1) {
  return guarded(vp, CalloutKind::SegmentLoad, [&](EngineCore& e, cpu::Cpu& c) {
    if ((a1 & 7) == cpu::CS) return finish(e, cpu::Fault::ud(), true);
    return finish(e, c.load_segment(cpu::Seg(a1 & 7), uint16_t(a0)), true);
  });
}

uint32_t pop_segment(void* vp, uint64_t a0, uint64_t a1) {
  return guarded(vp, CalloutKind::SegmentLoad, [&](EngineCore& e, cpu::Cpu& c) {
    auto f = c.load_segment(cpu::Seg(a1 & 7), uint16_t(a0));
    if (!f) e.v.gpr[cpu::ESP] += (a1 >> 8) & 0xff;
    return finish(e, f, true);
  });
}

uint32_t load_far_pointer(void* vp, uint64_t a0, uint64_t a1) {
  return guarded(vp, CalloutKind::SegmentLoad, [&](EngineCore& e, cpu::Cpu& c) {
    uint32_t offset = 0;
    uint16_t sel = 0;
    if (!read_far_ptr(e, a0, (a1 >> 16) & 7, offset, sel)) return 1u;
    auto f = c.load_segment(cpu::Seg(a1 & 7), sel);
    if (!f) e.v.gpr[(a1 >> 8) & 7] = offset;
    return finish(e, f, true);
  });
}

namespace {
uint32_t far_transfer(void* vp, uint32_t offset, uint16_t sel, bool call) {
  return guarded(vp, CalloutKind::FarTransfer, [&](EngineCore& e, cpu::Cpu& c) {
    uint32_t next = e.v.callout_next;
    auto f = call ? c.far_call(sel, offset, next) : c.far_jump(sel, offset);
    if (f) return finish(e, f, true);
    e.request_continue();  // EIP was set by the transfer
    return 1u;
  });
}
}  // namespace

uint32_t far_jmp(void* vp, uint64_t a0, uint64_t a1) {
  return far_transfer(vp, uint32_t(a0), uint16_t(a1), false);
}
uint32_t far_call(void* vp, uint64_t a0, uint64_t a1) {
  return far_transfer(vp, uint32_t(a0), uint16_t(a1), true);
}
uint32_t far_jmp_mem(void* vp, uint64_t a0, uint64_t a1) {
  uint32_t offset;
  uint16_t sel;
  if (!read_far_ptr(core_of(vp), a0, a1 & 7, offset, sel)) return 1;
  return far_transfer(vp, offset, sel, false);
}
uint32_t far_call_mem(void* vp, uint64_t a0, uint64_t a1) {
  uint32_t offset;
  uint16_t sel;
  if (!read_far_ptr(core_of(vp), a0, a1 & 7, offset, sel)) return 1;
  return far_transfer(vp, offset, sel, true);
}

uint32_t far_ret(void* vp, uint64_t, uint64_t a1) {
  return guarded(vp, CalloutKind::FarTransfer, [&](EngineCore& e, cpu::Cpu& c) {
    auto f = c.far_return(uint16_t(a1));
    if (f) return finish(e, f, true);
    e.request_continue();
    return 1u;
  });
}

uint32_t iret(void* vp, uint64_t, uint64_t) {
  return guarded(vp, CalloutKind::Iret, [&](EngineCore& e, cpu::Cpu& c) {
    auto f = c.iret();
    if (f) return finish(e, f, true);
    e.request_continue();
    return 1u;
  });
}

uint32_t bcd(void* vp, uint64_t, uint64_t a1) {
  return guarded(vp, CalloutKind::Bcd, [&](EngineCore& e, cpu::Cpu& c) {
    uint8_t imm = uint8_t(a1 >> 8);
    cpu::MaybeFault f;
    switch (a1 & 0xff) {
      case 0:
        c.daa();
        break;
      case 1:
        c.das();
        break;
      case 2:
        c.aaa();
        break;
      case 3:
        c.aas();
        break;
      case 4:
        f = c.aam(imm);
        break;
      case 5:
        c.aad(imm);
        break;
      default:
        c.salc();
        break;
    }
    return finish(e, f, false);
  });
}

uint32_t bound(void* vp, uint64_t a0, uint64_t a1) {
  return guarded(vp, CalloutKind::Bound, [&](EngineCore& e, cpu::Cpu& c) {
    uint32_t at = linear(e, a0, (a1 >> 8) & 7);
    const unsigned size = (a1 >> 16) & 0xff;
    auto mode = access_mode(e.v);
    int32_t lo, hi, index;
    if (size == 2) {
      int16_t b[2];
      if (auto f = c.memory().read(at, b, 4, mode)) return finish(e, f, false);
      lo = b[0], hi = b[1], index = int16_t(e.v.gpr[a1 & 7]);
    } else {
      int32_t b[2];
      if (auto f = c.memory().read(at, b, 8, mode)) return finish(e, f, false);
      lo = b[0], hi = b[1], index = int32_t(e.v.gpr[a1 & 7]);
    }
    if (index < lo || index > hi) return finish(e, cpu::Fault{cpu::kBR}, false);
    return finish(e, {}, false);
  });
}

}  // namespace bt::callouts
