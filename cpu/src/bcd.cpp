// The BCD adjust instructions, which do not exist in 64-bit mode and so cannot run as copied
// host code. Flags the SDM leaves undefined follow Bochs (cleared), not any one real CPU.
#include "cpu/cpu.h"

namespace cpu {

namespace {
bool parity(uint8_t v) { return !__builtin_parity(v); }

void set_szp(Vcpu& v, uint8_t result) {
  v.eflags &= ~(fl::SF | fl::ZF | fl::PF);
  if (result & 0x80) v.eflags |= fl::SF;
  if (result == 0) v.eflags |= fl::ZF;
  if (parity(result)) v.eflags |= fl::PF;
}
void set(Vcpu& v, uint32_t flag, bool on) { v.eflags = on ? v.eflags | flag : v.eflags & ~flag; }
uint8_t al(const Vcpu& v) { return uint8_t(v.gpr[EAX]); }
uint8_t ah(const Vcpu& v) { return uint8_t(v.gpr[EAX] >> 8); }
void set_al(Vcpu& v, uint8_t x) { v.gpr[EAX] = (v.gpr[EAX] & ~0xffu) | x; }
void set_ax(Vcpu& v, uint16_t x) { v.gpr[EAX] = (v.gpr[EAX] & ~0xffffu) | x; }
}  // namespace

void Cpu::daa() {
  uint8_t old_al = al(v_), a = old_al;
  bool old_cf = v_.eflags & fl::CF, cf = false, af = false;
  if ((a & 0xf) > 9 || (v_.eflags & fl::AF)) {
    cf = old_cf || a > 0xf9;
    a += 6;
    af = true;
  }
  if (old_al > 0x99 || old_cf) {
    a += 0x60;
    cf = true;
  }
  set_al(v_, a);
  set_szp(v_, a);
  set(v_, fl::CF, cf);
  set(v_, fl::AF, af);
  set(v_, fl::OF, false);
}

void Cpu::das() {
  uint8_t old_al = al(v_), a = old_al;
  bool old_cf = v_.eflags & fl::CF, cf = false, af = false;
  if ((a & 0xf) > 9 || (v_.eflags & fl::AF)) {
    cf = old_cf || a < 6;
    a -= 6;
    af = true;
  }
  if (old_al > 0x99 || old_cf) {
    a -= 0x60;
    cf = true;
  }
  set_al(v_, a);
  set_szp(v_, a);
  set(v_, fl::CF, cf);
  set(v_, fl::AF, af);
  set(v_, fl::OF, false);
}

void Cpu::aaa() {
  uint16_t ax = uint16_t(v_.gpr[EAX]);
  bool adjust = (ax & 0xf) > 9 || (v_.eflags & fl::AF);
  if (adjust) ax += 0x106;
  set_ax(v_, ax & 0xff0f);
  set(v_, fl::AF, adjust);
  set(v_, fl::CF, adjust);
  set_szp(v_, al(v_));
  set(v_, fl::OF, false);
}

void Cpu::aas() {
  uint16_t ax = uint16_t(v_.gpr[EAX]);
  bool adjust = (ax & 0xf) > 9 || (v_.eflags & fl::AF);
  if (adjust) {
    ax -= 6;
    ax -= 0x100;
  }
  set_ax(v_, ax & 0xff0f);
  set(v_, fl::AF, adjust);
  set(v_, fl::CF, adjust);
  set_szp(v_, al(v_));
  set(v_, fl::OF, false);
}

MaybeFault Cpu::aam(uint8_t base) {
  if (base == 0) return Fault{kDE};
  uint8_t a = al(v_);
  set_ax(v_, uint16_t(((a / base) << 8) | (a % base)));
  set_szp(v_, al(v_));
  v_.eflags &= ~(fl::CF | fl::AF | fl::OF);
  return {};
}

void Cpu::aad(uint8_t base) {
  uint8_t a = uint8_t(al(v_) + ah(v_) * base);
  set_ax(v_, a);
  set_szp(v_, a);
  v_.eflags &= ~(fl::CF | fl::AF | fl::OF);
}

void Cpu::salc() { set_al(v_, (v_.eflags & fl::CF) ? 0xff : 0); }

}  // namespace cpu
