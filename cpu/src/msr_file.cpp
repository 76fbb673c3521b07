// rdmsr/wrmsr semantics for the MSRs msr_table.cpp defines.
#include <fmt/format.h>

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
constexpr uint64_t kCounterMask = (1ull << 40) - 1;

// What a P6 counter may be set to count here: CPU_CLK_UNHALTED (event 0x79, no unit mask) in
// both rings, with no edge detect, inversion or threshold; the PC and INT bits are free (with
// the local APIC disabled an overflow interrupt goes nowhere, as on the part). Cycles are the
// guest TSC's, which also runs while the CPU is halted (docs/MSRS.md).
bool countable(uint64_t sel) {
  constexpr uint64_t kEdgeInvCmask = (1ull << 18) | (1ull << 23) | (0xffull << 24);
  return (sel & 0xffff) == 0x79 && (sel & kEvntselUsrOs) == kEvntselUsrOs && !(sel & kEdgeInvCmask);
}
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

uint64_t& MsrFile::stored(uint32_t index) {
  return values_[size_t(find(index) - defs_.data())];
}

std::optional<uint64_t> MsrFile::read(uint32_t index, uint64_t cycles) const {
  const MsrDef* d = find(index);
  if (!d || d->kind == MsrKind::WriteOnly || d->kind == MsrKind::Tsc) return std::nullopt;
  const uint64_t v = values_[size_t(d - defs_.data())];
  const unsigned n = index - msr::PERFCTR0;
  if (d->kind == MsrKind::PerfCtr && counting_[n]) return (v + cycles - started_[n]) & kCounterMask;
  return v;
}

// EVNTSEL0.EN starts both counters; each counts when its USR or OS bit is set. A counter that
// stops keeps its count; one that starts counts from its current value.
void MsrFile::update_counting(uint64_t sel0, uint64_t sel1, uint64_t cycles) {
  const uint64_t sels[2] = {sel0, sel1};
  bool counts[2];
  for (unsigned n = 0; n < 2; ++n) {
    counts[n] = (sel0 & kEvntselEnable) && (sels[n] & kEvntselUsrOs);
    if (counts[n] && !countable(sels[n]))
      throw Unsupported{fmt::format(
          "performance counter {} counting event {:#04x} (umask {:#04x}, select {:#x}): only "
          "CPU_CLK_UNHALTED in both rings is modelled",
          n, sels[n] & 0xff, (sels[n] >> 8) & 0xff, sels[n])};
  }
  for (unsigned n = 0; n < 2; ++n) {
    if (counts[n] == counting_[n]) continue;
    uint64_t& count = stored(msr::PERFCTR0 + n);
    if (counting_[n]) count = (count + cycles - started_[n]) & kCounterMask;
    counting_[n] = counts[n];
    started_[n] = cycles;
  }
}

bool MsrFile::write(uint32_t index, uint64_t value, uint64_t cycles) {
  const MsrDef* d = find(index);
  if (!d || d->kind == MsrKind::ReadOnly || d->kind == MsrKind::Tsc) return false;
  if (value & d->reserved) return false;
  uint64_t& cur = values_[size_t(d - defs_.data())];
  switch (d->kind) {
    case MsrKind::PerfCtr:  // only bits 31:0 are written; 39:32 copy bit 31
      value = uint64_t(int64_t(int32_t(uint32_t(value))));
      started_[index - msr::PERFCTR0] = cycles;  // a counting counter goes on from here
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
    case MsrKind::EvntSel:
      update_counting(index == msr::EVNTSEL0 ? next : *read(msr::EVNTSEL0, cycles),
                      index == msr::EVNTSEL1 ? next : *read(msr::EVNTSEL1, cycles), cycles);
      break;
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

uint64_t MsrFile::perfctr(unsigned n, uint64_t cycles) const {
  return read(n == 0 ? msr::PERFCTR0 : msr::PERFCTR1, cycles).value_or(0);
}

// ---- the instructions ----

MaybeFault Cpu::rdmsr() {
  if (auto f = check_cpl0()) return f;
  const uint32_t index = v_.gpr[ECX];
  uint64_t value;
  if (index == msr::TSC) {
    value = rdtsc();
  } else if (auto v = msrs_.read(index, rdtsc())) {
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
  if (!msrs_.write(index, value, rdtsc())) return Fault::gp();
  return {};
}

MaybeFault Cpu::rdpmc() {
  if (!(v_.cr4 & cr4::PCE) && v_.cpl != 0) return Fault::gp();
  const uint32_t n = v_.gpr[ECX];
  if (n > 1) return Fault::gp();  // a P6 has two counters
  const uint64_t value = msrs_.perfctr(n, rdtsc());
  v_.gpr[EAX] = uint32_t(value);
  v_.gpr[EDX] = uint32_t(value >> 32) & 0xff;
  return {};
}

}  // namespace cpu
