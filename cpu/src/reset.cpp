// The machine state a multiboot loader hands to the kernel (Multiboot 0.6.96 §3.2).
#include "cpu/cpu.h"

namespace cpu {

void Cpu::reset_multiboot(uint32_t eip, uint32_t eax, uint32_t ebx) {
  // Architectural state only: the execution engine's fields (jump cache, owner) stay.
  Vcpu fresh;
  fresh.jc_table = v_.jc_table;
  fresh.jc_tag = v_.jc_tag;
  fresh.jc_hits = v_.jc_hits;
  fresh.host_ctx = v_.host_ctx;
  v_ = fresh;
  v_.cr0 = cr0::PE | cr0::ET;
  Segment code{0x08, 0, 0xffffffff, kAttrCode32};
  Segment data{0x10, 0, 0xffffffff, kAttrData32};
  v_.load_segment_cache(CS, code);
  for (Seg s : {ES, SS, DS, FS, GS}) v_.load_segment_cache(s, data);
  // The spec leaves GDTR/IDTR undefined; the kernel must load its own before using them.
  // LDTR and TR were never loaded: unusable (not present), so an LDT selector is #GP and a
  // ring switch through the TSS is #TS until the kernel runs lldt / ltr.
  v_.ldtr = Segment{};
  v_.tr = Segment{};
  v_.idtr = {0, 0x3ff};
  v_.write_eflags(fl::FIXED1);
  v_.eip = eip;
  v_.gpr[EAX] = eax;
  v_.gpr[EBX] = ebx;
  v_.cpl = 0;
  shutdown_ = false;
  delivering_ = 0;
}

}  // namespace cpu
