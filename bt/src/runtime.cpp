#include "runtime.h"

#include <asmjit/x86.h>

#include <cstring>
#include <stdexcept>

#include "cpu/vcpu.h"
#include "inline_cache.h"

namespace bt {

using namespace asmjit;
using namespace asmjit::x86;

namespace {
Mem vc(int32_t off, uint32_t size = 4) {
  return Mem(r15, off, size);
}
Gpd gpd(int i) {
  return Gpd(uint32_t(i));
}

void save_guest_state(Assembler& a) {
  for (int i = 0; i < 8; ++i) a.mov(vc(cpu::off::gpr + 4 * i), gpd(i));
  // Merge host arithmetic flags + DF into the vCPU's EFLAGS. pushfq must not touch the guest
  // stack, so it runs on the vCPU's scratch area.
  a.lea(rsp, vc(cpu::off::scratch_top, 8));
  a.pushfq();
  a.pop(r8);
  a.mov(r9d, vc(cpu::off::eflags));
  a.and_(r9d, ~kHostFlagsMask);
  a.and_(r8d, kHostFlagsMask);
  a.or_(r9d, r8d);
  a.mov(vc(cpu::off::eflags), r9d);
}
// The guest FPU state leaves the host FPU before any monitor C++ code runs (which may use
// SSE and x87 freely): fxsave into the vCPU's image, then the monitor's own control state (an
// empty x87 stack, FCW 0x37f, its MXCSR). Costs a compare when the guest state is not live.
void save_guest_fpu(Assembler& a, Label monitor_mxcsr) {
  Label skip = a.newLabel();
  a.cmp(byte_ptr(r15, cpu::off::fpu_live), 0);
  a.je(skip);
  a.fxsave(ptr(r15, cpu::off::fpu));
  a.fninit();
  a.ldmxcsr(dword_ptr(monitor_mxcsr));
  a.mov(byte_ptr(r15, cpu::off::fpu_live), 0);
  a.mov(dword_ptr(r15, cpu::off::fpu_closed), 0x01010101);
  a.bind(skip);
}
// The jump-cache probe for the target EIP in r8d: r10 = its entry, r11 = its key (generation
// tag | EIP); jumps to `hit` if the entry holds that key (rcx then still to be restored from
// r12), else falls through with rcx restored. Flag-free: the table index is the EIP's low `bits`
// bits, by movzx for 8 and 16, else by BMI2 shlx/shrx (which, unlike and/bzhi, leave the flags
// alone).
void emit_jc_probe(Assembler& a, unsigned bits, Label hit) {
  if (bits == 16) {
    a.movzx(r9d, r8w);
  } else if (bits == 8) {
    a.movzx(r9d, r8b);
  } else {
    a.mov(r10d, imm(32 - bits));
    a.shlx(r9d, r8d, r10d);
    a.shrx(r9d, r9d, r10d);
  }
  a.mov(r10, vc(cpu::off::jc_table, 8));
  a.lea(r10, ptr(r10, r9, 3));
  a.lea(r10, ptr(r10, r9, 3));  // r10 = &table[index] (16-byte entries)
  a.mov(r11, vc(cpu::off::jc_tag, 8));
  a.lea(r11, ptr(r11, r8));  // key = tag | eip (tag has a zero low half)
  a.mov(r9, ptr(r10));
  a.not_(r9);
  a.lea(r9, ptr(r9, r11, 0, 1));  // r9 = key - entry.key
  a.mov(r12, rcx);
  a.mov(rcx, r9);
  a.jecxz(rcx, hit);
  a.mov(rcx, r12);
}

// The runtime's entry points and the internal labels they share.
struct Labels {
  explicit Labels(Assembler& a)
      : enter(a.newLabel()),
        reload(a.newLabel()),
        exit(a.newLabel()),
        leave(a.newLabel()),
        callout(a.newLabel()),
        callout_exit(a.newLabel()),
        fpu_callout(a.newLabel()),
        lookup(a.newLabel()),
        ic_miss(a.newLabel()),
        mxcsr(a.newLabel()) {}
  Label enter, reload, exit, leave, callout, callout_exit, fpu_callout, lookup, ic_miss, mxcsr;
};

// enter(rdi = vcpu, rsi = code), and reload: guest state from the vCPU into host registers,
// then a jump to [resume].
void emit_enter(Assembler& a, const Labels& l) {
  a.bind(l.enter);
  for (auto r : {rbx, rbp, r12, r13, r14, r15}) a.push(r);
  a.sub(rsp, 8);  // keep host_rsp 16-byte aligned so callouts can `call` from it
  a.mov(r15, rdi);
  a.mov(vc(cpu::off::host_rsp, 8), rsp);
  a.mov(vc(cpu::off::resume, 8), rsi);
  a.bind(l.reload);
  a.mov(r8d, vc(cpu::off::eflags));
  a.and_(r8d, kHostFlagsMask);
  a.lea(rsp, vc(cpu::off::scratch_top, 8));
  a.push(r8);
  a.popfq();
  for (int i = 0; i < 8; ++i) a.mov(gpd(i), vc(cpu::off::gpr + 4 * i));  // esp last-but-few: fine
  a.jmp(vc(cpu::off::resume, 8));
}

// exit_common: reason (and EIP) were stored by the code that jumped here. leave: the same with
// the guest's registers already saved.
void emit_exit(Assembler& a, const Labels& l) {
  a.bind(l.exit);
  save_guest_state(a);
  a.bind(l.leave);
  save_guest_fpu(a, l.mxcsr);
  a.mov(rsp, vc(cpu::off::host_rsp, 8));
  a.cld();  // the C++ ABI wants DF clear
  a.mov(eax, vc(cpu::off::exit_reason));
  a.add(rsp, 8);
  for (auto r : {r15, r14, r13, r12, rbp, rbx}) a.pop(r);
  a.ret();
}

// Both callout stubs: save the guest, call r13(vcpu, a0 = r12, a1 = r11) on the monitor stack,
// with r14 = where to resume; ZF is set if the callout returned 0 (go on).
void emit_call_monitor(Assembler& a, const Labels& l) {
  save_guest_state(a);
  save_guest_fpu(a, l.mxcsr);
  a.mov(vc(cpu::off::resume, 8), r14);
  a.mov(rsp, vc(cpu::off::host_rsp, 8));
  a.cld();
  a.mov(rdi, r15);
  a.mov(rsi, r12);
  a.mov(rdx, r11);
  a.call(r13);
  a.test(eax, eax);
}

// callout, and fpu_callout: a callout (the FPU gate) after which, if it resumes, the guest FPU
// state is loaded into the host FPU; the gate has opened the classes CR0/CR4 allow.
void emit_callouts(Assembler& a, const Labels& l) {
  a.bind(l.callout);
  emit_call_monitor(a, l);
  a.jz(l.reload);
  a.bind(l.callout_exit);
  a.mov(vc(cpu::off::exit_reason), uint32_t(cpu::Exit::Callout));
  a.jmp(l.leave);

  a.bind(l.fpu_callout);
  emit_call_monitor(a, l);
  a.jnz(l.callout_exit);
  a.fxrstor(ptr(r15, cpu::off::fpu));
  a.mov(byte_ptr(r15, cpu::off::fpu_live), 1);
  a.jmp(l.reload);
}

// A jump-cache miss for the EIP in r8d: the dispatcher gets it, with `slot` (an IcSlot to
// refill, or 0) in exit_info.
void emit_lookup_exit(Assembler& a, const Labels& l, const Operand& slot) {
  if (slot.isImm())
    a.mov(vc(cpu::off::exit_info, 8), slot.as<Imm>());
  else
    a.mov(vc(cpu::off::exit_info, 8), slot.as<Gp>());
  a.mov(vc(cpu::off::eip), r8d);
  a.mov(vc(cpu::off::exit_reason), uint32_t(cpu::Exit::Lookup));
  a.jmp(l.exit);
}

// After a jump-cache hit: rcx back from r12, and the hit counted.
void emit_jc_hit(Assembler& a) {
  a.mov(rcx, r12);
  a.mov(r9, vc(cpu::off::jc_hits, 8));
  a.lea(r9, ptr(r9, 1));
  a.mov(vc(cpu::off::jc_hits, 8), r9);
}

// lookup: r8d = target EIP. Flag-free, because guest flags are live in RFLAGS.
void emit_lookup(Assembler& a, const Labels& l, unsigned jc_bits) {
  Label hit = a.newLabel();
  a.bind(l.lookup);
  emit_jc_probe(a, jc_bits, hit);
  emit_lookup_exit(a, l, imm(0));  // no inline-cache slot to refill
  a.bind(hit);
  emit_jc_hit(a);
  a.jmp(ptr(r10, 8));
}

// ic_miss: an inline-cache site's compare failed (r8d = target EIP, r13 = its IcSlot). The
// table decides: on a hit the slot takes the entry and the branch goes on; on a miss the
// dispatcher gets the slot in exit_info and refills it with the unit it finds or makes.
void emit_ic_miss(Assembler& a, const Labels& l, unsigned jc_bits) {
  Label hit = a.newLabel();
  a.bind(l.ic_miss);
  a.mov(r9, ptr(r13, kIcMisses));
  a.lea(r9, ptr(r9, 1));
  a.mov(ptr(r13, kIcMisses), r9);
  emit_jc_probe(a, jc_bits, hit);
  emit_lookup_exit(a, l, r13);
  a.bind(hit);
  emit_jc_hit(a);
  a.mov(ptr(r13, kIcKey), r11);
  a.mov(r9, ptr(r10, 8));
  a.mov(ptr(r13, kIcHost), r9);
  a.jmp(r9);
}
}  // namespace

void Runtime::build(CodeCache& cache, unsigned jc_bits) {
  CodeHolder code;
  code.init(Environment(Arch::kX64), uint64_t(reinterpret_cast<uintptr_t>(cache.base())));
  Assembler a(&code);
  const Labels l(a);
  emit_enter(a, l);
  emit_exit(a, l);
  emit_callouts(a, l);
  emit_lookup(a, l, jc_bits);
  emit_ic_miss(a, l, jc_bits);
  // The monitor's MXCSR, restored when guest FPU state leaves the host FPU.
  a.align(AlignMode::kData, 4);
  a.bind(l.mxcsr);
  const uint32_t monitor_mxcsr = __builtin_ia32_stmxcsr();
  a.embed(&monitor_mxcsr, 4);

  code.flatten();
  code.resolveUnresolvedLinks();
  size_t size = code.codeSize();
  if (size > cache.size()) throw std::runtime_error("translation cache too small for the runtime");
  code.copyFlattenedData(cache.base(), size);
  uint8_t* b = cache.base();
  enter = reinterpret_cast<EnterFn>(b + code.labelOffsetFromBase(l.enter));
  exit_common = b + code.labelOffsetFromBase(l.exit);
  leave = b + code.labelOffsetFromBase(l.leave);
  callout = b + code.labelOffsetFromBase(l.callout);
  lookup = b + code.labelOffsetFromBase(l.lookup);
  fpu_callout = b + code.labelOffsetFromBase(l.fpu_callout);
  ic_miss = b + code.labelOffsetFromBase(l.ic_miss);
  cache.set_runtime_end((size + 63) & ~size_t(63));
}

}  // namespace bt
