// Control, debug and system-table registers: mov crN/drN, lgdt/lidt, sgdt/sidt, clts, lmsw,
// invlpg. The MMU and the translation cache hear about paging changes through Hooks.
#include <fmt/format.h>

#include "cpu/cpu.h"

namespace cpu {

MaybeFault Cpu::check_cpl0() {
  if (v_.cpl != 0) return Fault::gp();
  return {};
}

MaybeFault Cpu::write_cr(int n, uint32_t value) {
  if (auto f = check_cpl0()) return f;
  switch (n) {
    case 0: {
      value |= cr0::ET;  // hard-wired on a 486 and later
      if ((value & cr0::PG) && !(value & cr0::PE)) return Fault::gp();
      if ((value & cr0::NW) && !(value & cr0::CD)) return Fault::gp();
      uint32_t old = v_.cr0;
      v_.cr0 = value;
      if ((old ^ value) & (cr0::PG | cr0::PE | cr0::WP)) hooks_.paging_changed(old, v_.cr4);
      return {};
    }
    case 2:
      v_.cr2 = value;
      return {};
    case 3: {
      uint32_t old = v_.cr3;
      v_.cr3 = value;
      hooks_.cr3_written(old);
      return {};
    }
    case 4: {
      uint32_t known = cr4::TSD | cr4::DE | cr4::PSE;
      if (model_->has(feature::PGE)) known |= cr4::PGE;
      if (model_->family() >= 6) known |= cr4::PCE;      // with rdpmc (P6)
      if (model_->has(feature::MCE)) known |= cr4::MCE;  // #MC enabled; none ever happens
      if (model_->has(feature::FXSR)) known |= cr4::OSFXSR;
      if (model_->has(feature::SSE)) known |= cr4::OSXMMEXCPT;
      if (value & ~known) return Fault::gp();
      // Debugging extensions (I/O breakpoints) exist only where the model advertises DE.
      if ((value & cr4::DE) && !model_->has(feature::DE)) return Fault::gp();
      uint32_t old = v_.cr4;
      v_.cr4 = value;
      if ((old ^ value) & (cr4::PSE | cr4::PGE)) hooks_.paging_changed(v_.cr0, old);
      return {};
    }
    default:
      return Fault::ud();
  }
}

MaybeFault Cpu::read_cr(int n, uint32_t& value) {
  if (auto f = check_cpl0()) return f;
  switch (n) {
    case 0:
      value = v_.cr0;
      return {};
    case 2:
      value = v_.cr2;
      return {};
    case 3:
      value = v_.cr3;
      return {};
    case 4:
      value = v_.cr4;
      return {};
    default:
      return Fault::ud();
  }
}

// SDM MOV DR: #GP(0) above CPL 0, then #UD for DR4/DR5 with CR4.DE (without it they alias
// DR6/DR7), then #DB (DR6.BD, a fault) while DR7.GD is set; GD is cleared as the #DB is taken.
MaybeFault Cpu::dr_access(int& n) {
  if (auto f = check_cpl0()) return f;
  if (n == 4 || n == 5) {
    if (v_.cr4 & cr4::DE) return Fault::ud();
    n += 2;
  }
  if (n < 0 || n > 7) return Fault::ud();
  if (v_.dr[7] & dr7::GD) {
    v_.dr[7] &= ~dr7::GD;
    Fault f{kDB};
    f.dr6 = dr6::BD;
    return f;
  }
  return {};
}

MaybeFault Cpu::write_dr(int n, uint32_t value) {
  if (auto f = dr_access(n)) return f;
  if (n == 6) value = (value & (dr6::B0_3 | dr6::BD | dr6::BS | dr6::BT)) | dr6::FIXED1;
  if (n == 7) {
    value = (value & dr7::WRITABLE) | dr7::FIXED1;
    // Breakpoints are not implemented: a guest that arms one would silently not get its #DB.
    if (value & dr7::ENABLES)
      throw Unsupported{fmt::format(
          "hardware breakpoint enabled in DR7 ({:#010x}; DR0-3 {:#x} {:#x} {:#x} {:#x})", value,
          v_.dr[0], v_.dr[1], v_.dr[2], v_.dr[3])};
  }
  v_.dr[n] = value;
  return {};
}

MaybeFault Cpu::read_dr(int n, uint32_t& value) {
  if (auto f = dr_access(n)) return f;
  value = v_.dr[n];
  return {};
}

MaybeFault Cpu::lgdt_lidt(bool idt, uint32_t linear) {
  if (auto f = check_cpl0()) return f;
  uint8_t buf[6];
  if (auto f = mem_.read(linear, buf, 6, Memory::Mode::Supervisor)) return f;
  DescTable t;
  t.limit = uint16_t(buf[0] | buf[1] << 8);
  t.base = uint32_t(buf[2] | buf[3] << 8 | buf[4] << 16 | uint32_t(buf[5]) << 24);
  (idt ? v_.idtr : v_.gdtr) = t;
  return {};
}

MaybeFault Cpu::sgdt_sidt(bool idt, uint32_t linear) {
  const DescTable& t = idt ? v_.idtr : v_.gdtr;
  uint8_t buf[6] = {uint8_t(t.limit),     uint8_t(t.limit >> 8), uint8_t(t.base),
                    uint8_t(t.base >> 8), uint8_t(t.base >> 16), uint8_t(t.base >> 24)};
  return mem_.write(linear, buf, 6, mode());
}

MaybeFault Cpu::clts() {
  if (auto f = check_cpl0()) return f;
  v_.cr0 &= ~cr0::TS;
  return {};
}

MaybeFault Cpu::lmsw(uint16_t value) {
  if (auto f = check_cpl0()) return f;
  // lmsw can set PE but never clear it, and touches only PE/MP/EM/TS.
  uint32_t v = (v_.cr0 & ~0xeu) | (value & 0xf) | (v_.cr0 & cr0::PE);
  return write_cr(0, v);
}

MaybeFault Cpu::invlpg(uint32_t linear) {
  if (auto f = check_cpl0()) return f;
  hooks_.invlpg(linear);
  return {};
}

}  // namespace cpu
