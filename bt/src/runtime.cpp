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
}  // namespace

void Runtime::build(CodeCache& cache, unsigned jc_bits) {
  CodeHolder code;
  code.init(Environment(Arch::kX64), uint64_t(reinterpret_cast<uintptr_t>(cache.base())));
  Assembler a(&code);
  Label l_enter = a.newLabel(), l_reload = a.newLabel(), l_exit = a.newLabel(),
        l_leave = a.newLabel(), l_callout = a.newLabel(), l_lookup = a.newLabel(),
        l_callout_exit = a.newLabel(), l_hit = a.newLabel(), l_fpu_callout = a.newLabel(),
        l_mxcsr = a.newLabel(), l_ic_miss = a.newLabel(), l_ic_hit = a.newLabel();

  // enter(rdi = vcpu, rsi = code)
  a.bind(l_enter);
  for (auto r : {rbx, rbp, r12, r13, r14, r15}) a.push(r);
  a.sub(rsp, 8);  // keep host_rsp 16-byte aligned so callouts can `call` from it
  a.mov(r15, rdi);
  a.mov(vc(cpu::off::host_rsp, 8), rsp);
  a.mov(vc(cpu::off::resume, 8), rsi);
  // reload: guest state from the vCPU into host registers, then jump to [resume].
  a.bind(l_reload);
  a.mov(r8d, vc(cpu::off::eflags));
  a.and_(r8d, kHostFlagsMask);
  a.lea(rsp, vc(cpu::off::scratch_top, 8));
  a.push(r8);
  a.popfq();
  for (int i = 0; i < 8; ++i) a.mov(gpd(i), vc(cpu::off::gpr + 4 * i));  // esp last-but-few: fine
  a.jmp(vc(cpu::off::resume, 8));

  // exit_common: reason (and EIP) were stored by the code that jumped here.
  a.bind(l_exit);
  save_guest_state(a);
  a.bind(l_leave);
  save_guest_fpu(a, l_mxcsr);
  a.mov(rsp, vc(cpu::off::host_rsp, 8));
  a.cld();  // the C++ ABI wants DF clear
  a.mov(eax, vc(cpu::off::exit_reason));
  a.add(rsp, 8);
  for (auto r : {r15, r14, r13, r12, rbp, rbx}) a.pop(r);
  a.ret();

  // callout: r13 = function, r12 = a0, r11 = a1, r14 = where to resume.
  // Both callout stubs: save the guest, call r13(vcpu, a0, a1) on the monitor stack.
  auto call_monitor = [&] {
    save_guest_state(a);
    save_guest_fpu(a, l_mxcsr);
    a.mov(vc(cpu::off::resume, 8), r14);
    a.mov(rsp, vc(cpu::off::host_rsp, 8));
    a.cld();
    a.mov(rdi, r15);
    a.mov(rsi, r12);
    a.mov(rdx, r11);
    a.call(r13);
    a.test(eax, eax);
  };
  a.bind(l_callout);
  call_monitor();
  a.jz(l_reload);
  a.bind(l_callout_exit);
  a.mov(vc(cpu::off::exit_reason), uint32_t(cpu::Exit::Callout));
  a.jmp(l_leave);

  // fpu_callout: a callout (the FPU gate) after which, if it resumes, the guest FPU state is
  // loaded into the host FPU; the gate has opened the classes CR0/CR4 allow.
  a.bind(l_fpu_callout);
  call_monitor();
  a.jnz(l_callout_exit);
  a.fxrstor(ptr(r15, cpu::off::fpu));
  a.mov(byte_ptr(r15, cpu::off::fpu_live), 1);
  a.jmp(l_reload);

  // lookup: r8d = target EIP. Flag-free, because guest flags are live in RFLAGS.
  a.bind(l_lookup);
  emit_jc_probe(a, jc_bits, l_hit);
  a.mov(vc(cpu::off::exit_info, 8), imm(0));  // no inline-cache slot to refill
  a.mov(vc(cpu::off::eip), r8d);
  a.mov(vc(cpu::off::exit_reason), uint32_t(cpu::Exit::Lookup));
  a.jmp(l_exit);
  a.bind(l_hit);
  a.mov(rcx, r12);
  a.mov(r9, vc(cpu::off::jc_hits, 8));
  a.lea(r9, ptr(r9, 1));
  a.mov(vc(cpu::off::jc_hits, 8), r9);
  a.jmp(ptr(r10, 8));

  // ic_miss: an inline-cache site's compare failed (r8d = target EIP, r13 = its IcSlot). The
  // table decides: on a hit the slot takes the entry and the branch goes on; on a miss the
  // dispatcher gets the slot in exit_info and refills it with the unit it finds or makes.
  a.bind(l_ic_miss);
  a.mov(r9, ptr(r13, kIcMisses));
  a.lea(r9, ptr(r9, 1));
  a.mov(ptr(r13, kIcMisses), r9);
  emit_jc_probe(a, jc_bits, l_ic_hit);
  a.mov(vc(cpu::off::exit_info, 8), r13);
  a.mov(vc(cpu::off::eip), r8d);
  a.mov(vc(cpu::off::exit_reason), uint32_t(cpu::Exit::Lookup));
  a.jmp(l_exit);
  a.bind(l_ic_hit);
  a.mov(rcx, r12);
  a.mov(r9, vc(cpu::off::jc_hits, 8));
  a.lea(r9, ptr(r9, 1));
  a.mov(vc(cpu::off::jc_hits, 8), r9);
  a.mov(ptr(r13, kIcKey), r11);
  a.mov(r9, ptr(r10, 8));
  a.mov(ptr(r13, kIcHost), r9);
  a.jmp(r9);

  // The monitor's MXCSR, restored when guest FPU state leaves the host FPU.
  a.align(AlignMode::kData, 4);
  a.bind(l_mxcsr);
  const uint32_t monitor_mxcsr = __builtin_ia32_stmxcsr();
  a.embed(&monitor_mxcsr, 4);

  code.flatten();
  code.resolveUnresolvedLinks();
  size_t size = code.codeSize();
  if (size > cache.size()) throw std::runtime_error("translation cache too small for the runtime");
  code.copyFlattenedData(cache.base(), size);
  uint8_t* b = cache.base();
  enter = reinterpret_cast<EnterFn>(b + code.labelOffsetFromBase(l_enter));
  exit_common = b + code.labelOffsetFromBase(l_exit);
  leave = b + code.labelOffsetFromBase(l_leave);
  callout = b + code.labelOffsetFromBase(l_callout);
  lookup = b + code.labelOffsetFromBase(l_lookup);
  fpu_callout = b + code.labelOffsetFromBase(l_fpu_callout);
  ic_miss = b + code.labelOffsetFromBase(l_ic_miss);
  cache.set_runtime_end((size + 63) & ~size_t(63));
}

}  // namespace bt
