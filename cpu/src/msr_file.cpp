// rdmsr/wrmsr semantics for the MSRs msr_table.cpp defines.
#include <algorithm>

#include "cpu/cpu.h"
#include "cpu/msrs.h"

namespace cpu {

namespace {
// Memory types an MTRR field may hold: UC, WC, WT, WP, WB (2, 3 and 7 are reserved: #GP).
bool valid_memory_type(uint8_t t) {
  return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

bool valid_mtrr_write(uint32_t index, uint64_t value) {
  const bool fixed = index >= msr::MTRR_FIX64K_00000 && index < msr::MTRR_DEF_TYPE;
  for (int byte = 0; byte < (fixed ? 8 : 1); ++byte)
    if (!valid_memory_type(uint8_t(value >> (8 * byte)))) return false;
  return true;
}

constexpr uint64_t kEvntselEnable = 1ull << 22, kEvntselUsrOs = 3ull << 16;
}  // namespace

MsrFile::MsrFile(const CpuModel& m) : defs_(msr_defs(m)) {
  values_.reserve(defs_.size());
  for (const MsrDef& d : defs_) values_.push_back(d.reset);
}

const MsrDef* MsrFile::find(uint32_t index) const {
  auto it = std::lower_bound(defs_.begin(), defs_.end(), index,
                             [](const MsrDef& d, uint32_t i) { return d.index < i; });
  return it != defs_.end() && it->index == index ? &*it : nullptr;
}

std::optional<uint64_t> MsrFile::read(uint32_t index) const {
  const MsrDef* d = find(index);
  if (!d || d->kind == MsrKind::WriteOnly || d->kind == MsrKind::Tsc) return std::nullopt;
  return values_[size_t(d - defs_.data())];
}

bool MsrFile::write(uint32_t index, uint64_t value) {
  const MsrDef* d = find(index);
  if (!d || d->kind == MsrKind::ReadOnly || d->kind == MsrKind::Tsc) return false;
  if (value & d->reserved) return false;
  uint64_t& cur = values_[size_t(d - defs_.data())];
  switch (d->kind) {
    case MsrKind::PerfCtr:  // only bits 31:0 are written; 39:32 copy bit 31
      value = uint64_t(int64_t(int32_t(uint32_t(value))));
      break;
    case MsrKind::MtrrType:
      if (!valid_mtrr_write(index, value)) return false;
      break;
    case MsrKind::McZeroOnly:
    case MsrKind::ZeroTrigger:  // a cache command completes at once: BBL_CR_BUSY stays 0
      return value == 0;
    case MsrKind::WriteOnly:  // BIOS_UPDT_TRIG: no update is ever valid for this part
      return true;
    default:
      break;
  }
  const uint64_t next = (cur & ~d->writable) | (value & d->writable);
  switch (d->kind) {
    case MsrKind::EvntSel: {
      // EVNTSEL0.EN starts both counters; each counts when its USR or OS bit is set.
      const uint64_t sel0 = index == msr::EVNTSEL0 ? next : *read(msr::EVNTSEL0);
      const uint64_t sel1 = index == msr::EVNTSEL1 ? next : *read(msr::EVNTSEL1);
      if ((sel0 & kEvntselEnable) && ((sel0 | sel1) & kEvntselUsrOs))
        throw Unsupported{"performance counters counting events (EVNTSEL0.EN with USR/OS set)"};
      break;
    }
    case MsrKind::CesR:  // a counter control (CC) field other than 000 counts
      if (next & 0x01c001c0)
        throw Unsupported{"performance counters counting events (CESR counter control set)"};
      break;
    case MsrKind::DebugCtl:  // bits 0 (LBR), 1 (BTF) and 6 (TR) change what the CPU does
      if (next & 0x43)
        throw Unsupported{
            "DEBUGCTLMSR last-branch recording, branch single-step or trace messages"};
      break;
    default:
      break;
  }
  cur = next;
  return true;
}

void MsrFile::cpuid_executed() {
  if (const MsrDef* d = find(msr::BIOS_SIGN_ID))
    values_[size_t(d - defs_.data())] = 0;  // revision 0: no microcode update loaded
}

uint64_t MsrFile::perfctr(unsigned n) const {
  return read(n == 0 ? msr::PERFCTR0 : msr::PERFCTR1).value_or(0);
}

// ---- the instructions ----

MaybeFault Cpu::rdmsr() {
  if (auto f = check_cpl0()) return f;
  const uint32_t index = v_.gpr[ECX];
  uint64_t value;
  if (index == msr::TSC) {
    value = rdtsc();
  } else if (auto v = msrs_.read(index)) {
    value = *v;
  } else {
    return Fault::gp();
  }
  v_.gpr[EAX] = uint32_t(value);
  v_.gpr[EDX] = uint32_t(value >> 32);
  return {};
}

MaybeFault Cpu::wrmsr() {
  if (auto f = check_cpl0()) return f;
  const uint32_t index = v_.gpr[ECX];
  const uint64_t value = (uint64_t(v_.gpr[EDX]) << 32) | v_.gpr[EAX];
  if (index == msr::TSC) {
    // P5/P6: only bits 31:0 are written; the upper half becomes 0.
    v_.tsc_offset = int64_t(uint64_t(uint32_t(value)) - host_tsc());
    return {};
  }
  if (!msrs_.write(index, value)) return Fault::gp();
  return {};
}

MaybeFault Cpu::rdpmc() {
  if (!(v_.cr4 & cr4::PCE) && v_.cpl != 0) return Fault::gp();
  const uint32_t n = v_.gpr[ECX];
  if (n > 1) return Fault::gp();  // a P6 has two counters
  const uint64_t value = msrs_.perfctr(n);
  v_.gpr[EAX] = uint32_t(value);
  v_.gpr[EDX] = uint32_t(value >> 32) & 0xff;
  return {};
}

}  // namespace cpu
