// The guest FPU/SSE state's architectural rules: CR0/CR4 checks per instruction class and the
// fnsave/fnstenv memory formats built from the fxsave image (Intel SDM vol. 1 §8.1.10, 10.5).
#include "cpu/fpu_state.h"

namespace cpu {

MaybeFault fpu_class_fault(const Vcpu& v, FpuClass k) {
  const bool em = v.cr0 & cr0::EM, ts = v.cr0 & cr0::TS;
  switch (k) {
    case FpuClass::X87:
      if (em || ts) return Fault{kNM};
      return {};
    case FpuClass::Wait:
      if ((v.cr0 & cr0::MP) && ts) return Fault{kNM};
      return {};
    case FpuClass::Mmx:
      if (em) return Fault::ud();
      if (ts) return Fault{kNM};
      return {};
    case FpuClass::Sse:
      if (em || !(v.cr4 & cr4::OSFXSR)) return Fault::ud();
      if (ts) return Fault{kNM};
      return {};
    default:
      return Fault::ud();
  }
}

void fpu_reset(Vcpu& v) {
  std::memset(v.fpu, 0, sizeof v.fpu);
  fpu_fninit(v);
  fpu_put32(v, fxs::MXCSR, kMxcsrReset);
}

void fpu_fninit(Vcpu& v) {
  // Control, status, abridged tags, opcode and both pointers: bytes 0..23.
  std::memset(v.fpu, 0, fxs::MXCSR);
  fpu_put16(v, fxs::FCW, 0x037f);
}

namespace {
// The two-bit tag of a non-empty register from its contents: valid, zero or special.
unsigned tag_of(const uint8_t* r) {
  uint64_t mant;
  uint16_t se;
  std::memcpy(&mant, r, 8);
  std::memcpy(&se, r + 8, 2);
  const unsigned exp = se & 0x7fff;
  if (exp == 0x7fff) return 2;
  if (exp == 0) return mant == 0 ? 1 : 2;
  return (mant >> 63) ? 0 : 2;  // an unnormal (integer bit clear) is special
}
}  // namespace

uint16_t fpu_full_tag_word(const Vcpu& v) {
  const unsigned top = (fpu_get16(v, fxs::FSW) >> 11) & 7;
  const uint8_t abridged = v.fpu[fxs::FTW];
  uint16_t tw = 0;
  for (unsigned phys = 0; phys < 8; ++phys) {
    unsigned t = 3;
    if (abridged & (1u << phys)) t = tag_of(v.fpu + fxs::ST0 + 16 * ((phys - top) & 7));
    tw |= uint16_t(t << (2 * phys));
  }
  return tw;
}

unsigned fpu_env_image(const Vcpu& v, bool op16, uint8_t* out) {
  const uint16_t fcw = fpu_get16(v, fxs::FCW), fsw = fpu_get16(v, fxs::FSW);
  const uint16_t ftw = fpu_full_tag_word(v), fop = fpu_get16(v, fxs::FOP) & 0x7ff;
  const uint32_t fip = fpu_get32(v, fxs::FIP), fdp = fpu_get32(v, fxs::FDP);
  const uint16_t fcs = fpu_get16(v, fxs::FCS), fds = fpu_get16(v, fxs::FDS);
  if (op16) {
    const uint16_t w[7] = {fcw, fsw, ftw, uint16_t(fip), fcs, uint16_t(fdp), fds};
    std::memcpy(out, w, sizeof w);
    return 14;
  }
  // The unused upper halves read as ones on Intel parts (as Bochs models them).
  const uint32_t d[7] = {
      0xffff0000u | fcw, 0xffff0000u | fsw, 0xffff0000u | ftw, fip, fcs | uint32_t(fop) << 16, fdp,
      0xffff0000u | fds};
  std::memcpy(out, d, sizeof d);
  return 28;
}

unsigned fpu_save_image(const Vcpu& v, bool op16, uint8_t* out) {
  unsigned n = fpu_env_image(v, op16, out);
  for (unsigned i = 0; i < 8; ++i, n += 10) std::memcpy(out + n, v.fpu + fxs::ST0 + 16 * i, 10);
  return n;
}

}  // namespace cpu
