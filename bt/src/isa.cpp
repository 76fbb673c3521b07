// The modelled part's instruction set (cpu/model.h): an instruction the real part lacks is
// #UD in the guest (one it has and bt86 does not implement yet stops the VM instead), decided at
// translation time from Zydis's ISA set of the decoded instruction. The decoder itself is set up to
// decode as a P6 does (engine.cpp: F3 0F BC/BD are BSF/BSR, the MPX and CET encodings are the hint
// NOPs they were).
#include "translator.h"

namespace bt {

const char* missing_feature(const cpu::CpuModel& m, const Insn& in) {
  using namespace cpu::feature;
  const bool p6 = m.family() >= 6;
  switch (in.d.meta.isa_set) {
    case ZYDIS_ISA_SET_I86:
    case ZYDIS_ISA_SET_I186:
    case ZYDIS_ISA_SET_I286REAL:
    case ZYDIS_ISA_SET_I286PROTECTED:
    case ZYDIS_ISA_SET_I386:
    case ZYDIS_ISA_SET_I486REAL:
    case ZYDIS_ISA_SET_I486:
    case ZYDIS_ISA_SET_LAHF:
    case ZYDIS_ISA_SET_PAUSE:  // rep nop: a nop on every part
      return nullptr;
    case ZYDIS_ISA_SET_PENTIUMREAL:  // cpuid, rdtsc, rdmsr/wrmsr, cmpxchg8b
      return nullptr;
    case ZYDIS_ISA_SET_PPRO:  // fcomi family, ud2, hint nops, sysenter/sysexit
      if (in.d.mnemonic == ZYDIS_MNEMONIC_SYSENTER || in.d.mnemonic == ZYDIS_MNEMONIC_SYSEXIT)
        return m.part_has(SEP) ? nullptr : "SEP (sysenter/sysexit)";
      return p6 ? nullptr : "P6 instructions";
    case ZYDIS_ISA_SET_FAT_NOP:
    case ZYDIS_ISA_SET_RDPMC:
      return p6 ? nullptr : "P6 instructions";
    case ZYDIS_ISA_SET_X87:
      return m.part_has(FPU) ? nullptr : "FPU";
    case ZYDIS_ISA_SET_CMOV:
      return m.part_has(CMOV) ? nullptr : "CMOV";
    case ZYDIS_ISA_SET_FCMOV:
      return m.part_has(FPU | CMOV) ? nullptr : "FPU and CMOV (fcmov)";
    case ZYDIS_ISA_SET_PENTIUMMMX:
      return m.part_has(MMX) ? nullptr : "MMX";
    case ZYDIS_ISA_SET_FXSAVE:
      return m.part_has(FXSR) ? nullptr : "FXSR";
    case ZYDIS_ISA_SET_SSE:
    case ZYDIS_ISA_SET_SSEMXCSR:
    case ZYDIS_ISA_SET_SSE_PREFETCH:
      return m.part_has(SSE) ? nullptr : "SSE";
    case ZYDIS_ISA_SET_SSE2:
    case ZYDIS_ISA_SET_SSE2MMX:
    case ZYDIS_ISA_SET_CLFSH:
      return m.part_has(SSE2) ? nullptr : "SSE2";
    default:  // everything later than the parts bt86 models (AVX, popcnt, rdtscp, vmcall, ...)
      return ZydisISASetGetString(in.d.meta.isa_set);
  }
}

}  // namespace bt
