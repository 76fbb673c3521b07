// Test doubles for cpu::Cpu: a flat fake guest memory, recording Ports and Hooks, descriptor
// builders, and a fixture that sets up a small protected-mode machine (GDT, IDT, TSS, LDT).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <utility>
#include <vector>

#include "cpu/cpu.h"

namespace cpu {

// Lets gtest print a Fault / MaybeFault when an assertion fails.
inline void PrintTo(const Fault& f, std::ostream* os) {
  *os << vector_name(f.vector);
  if (f.has_error) *os << "(0x" << std::hex << f.error << std::dec << ")";
  if (f.vector == kPF) *os << " cr2=0x" << std::hex << f.cr2 << std::dec;
}

inline void PrintTo(Memory::Mode m, std::ostream* os) {
  *os << (m == Memory::Mode::User ? "User" : "Supervisor");
}

namespace testing {

// `f` is exactly `vector` with error code `error`.
inline ::testing::AssertionResult Faulted(const MaybeFault& f, uint8_t vector, uint32_t error) {
  if (!f) return ::testing::AssertionFailure() << "no fault";
  if (f->vector != vector || !f->has_error || f->error != error)
    return ::testing::AssertionFailure() << "got " << ::testing::PrintToString(*f);
  return ::testing::AssertionSuccess();
}
// `f` is exactly `vector` without an error code.
inline ::testing::AssertionResult FaultedNoError(const MaybeFault& f, uint8_t vector) {
  if (!f) return ::testing::AssertionFailure() << "no fault";
  if (f->vector != vector || f->has_error)
    return ::testing::AssertionFailure() << "got " << ::testing::PrintToString(*f);
  return ::testing::AssertionSuccess();
}
inline ::testing::AssertionResult NoFault(const MaybeFault& f) {
  if (f) return ::testing::AssertionFailure() << "got " << ::testing::PrintToString(*f);
  return ::testing::AssertionSuccess();
}

// Guest memory: 1 MiB, linear address = offset. Anything beyond it, or inside a hole, faults
// like a not-present page (#PF with CR2 = the first byte accessed).
class FakeMemory final : public Memory {
 public:
  static constexpr uint32_t kSize = 1u << 20;

  struct Access {
    bool write;
    uint32_t linear;
    unsigned len;
    Mode mode;
  };

  MaybeFault read(uint32_t linear, void* dst, unsigned len, Mode m) override {
    log.push_back({false, linear, len, m});
    if (auto f = check(linear, len, false, m)) return f;
    std::memcpy(dst, bytes.data() + linear, len);
    return {};
  }
  MaybeFault write(uint32_t linear, const void* src, unsigned len, Mode m) override {
    log.push_back({true, linear, len, m});
    if (auto f = check(linear, len, true, m)) return f;
    std::memcpy(bytes.data() + linear, src, len);
    return {};
  }

  // Makes [begin, end) fault like an unmapped page.
  void add_hole(uint32_t begin, uint32_t end) { holes.push_back({begin, end}); }

  void put8(uint32_t a, uint8_t v) { bytes.at(a) = v; }
  void put16(uint32_t a, uint16_t v) { put(a, &v, 2); }
  void put32(uint32_t a, uint32_t v) { put(a, &v, 4); }
  void put64(uint32_t a, uint64_t v) { put(a, &v, 8); }
  uint8_t get8(uint32_t a) const { return bytes.at(a); }
  uint16_t get16(uint32_t a) const { return get<uint16_t>(a); }
  uint32_t get32(uint32_t a) const { return get<uint32_t>(a); }
  uint64_t get64(uint32_t a) const { return get<uint64_t>(a); }

  // Writes the memory saw (frame pushes, accessed/busy bits), in order.
  std::vector<Access> writes() const {
    std::vector<Access> w;
    for (const Access& a : log)
      if (a.write) w.push_back(a);
    return w;
  }

  std::vector<uint8_t> bytes = std::vector<uint8_t>(kSize);
  std::vector<std::pair<uint32_t, uint32_t>> holes;
  std::vector<Access> log;

 private:
  MaybeFault check(uint32_t linear, unsigned len, bool write, Mode m) const {
    const uint64_t begin = linear, end = uint64_t(linear) + len;
    uint32_t err = (write ? 2u : 0u) | (m == Mode::User ? 4u : 0u);
    if (end > kSize) return Fault{kPF, true, err, begin >= kSize ? linear : kSize};
    for (auto [b, e] : holes)
      if (begin < e && end > b) return Fault{kPF, true, err, std::max<uint32_t>(linear, b)};
    return {};
  }
  void put(uint32_t a, const void* p, unsigned n) {
    ASSERT_LE(uint64_t(a) + n, kSize);
    std::memcpy(bytes.data() + a, p, n);
  }
  template <typename T>
  T get(uint32_t a) const {
    T v{};
    EXPECT_LE(uint64_t(a) + sizeof(T), kSize);
    if (uint64_t(a) + sizeof(T) <= kSize) std::memcpy(&v, bytes.data() + a, sizeof(T));
    return v;
  }
};

// Records every port access; in() answers `in_value`.
class FakePorts final : public Ports {
 public:
  struct Access {
    bool out;
    uint16_t port;
    unsigned size;
    uint32_t value;
    bool operator==(const Access&) const = default;
  };
  uint32_t in(uint16_t port, unsigned size) override {
    log.push_back({false, port, size, 0});
    return in_value;
  }
  void out(uint16_t port, unsigned size, uint32_t value) override {
    log.push_back({true, port, size, value});
  }
  uint32_t in_value = 0x12345678;
  std::vector<Access> log;
};

class FakeHooks final : public Hooks {
 public:
  void paging_changed(uint32_t old_cr0, uint32_t old_cr4) override {
    paging.push_back({old_cr0, old_cr4});
  }
  void cr3_written(uint32_t old_cr3) override { cr3.push_back(old_cr3); }
  void invlpg(uint32_t linear) override { invlpgs.push_back(linear); }
  // Ring changes as signed CPLs: +n entered outer ring n, -n entered inner ring n (-0 is 0x80).
  void entered_outer_ring(uint8_t cpl) override { rings.push_back(int(cpl)); }
  void entered_inner_ring(uint8_t cpl) override { rings.push_back(cpl ? -int(cpl) : 0x80); }
  void ferr() override { ++ferrs; }
  unsigned ferrs = 0;
  std::vector<int> rings;
  std::vector<std::pair<uint32_t, uint32_t>> paging;  // (old CR0, old CR4) per call
  std::vector<uint32_t> cr3;                          // old CR3 per call
  std::vector<uint32_t> invlpgs;
};

// ---- descriptor builders (SDM Vol. 3 §3.4.5, §6.11) ----

// Access byte (descriptor bits 40..47): P, DPL, S, type.
constexpr uint8_t access(uint8_t type, uint8_t dpl, bool s = true, bool present = true) {
  return uint8_t((present ? 0x80 : 0) | (dpl << 5) | (s ? 0x10 : 0) | (type & 0xf));
}

// A segment descriptor. `flags` is the high nibble of byte 6: G (8), D/B (4), L (2), AVL (1).
constexpr uint64_t seg_desc(uint32_t base, uint32_t limit20, uint8_t access_byte, uint8_t flags) {
  return (uint64_t(limit20) & 0xffff) | (uint64_t(base & 0xffffff) << 16) |
         (uint64_t(access_byte) << 40) | (uint64_t((limit20 >> 16) & 0xf) << 48) |
         (uint64_t(flags & 0xf) << 52) | (uint64_t(base >> 24) << 56);
}

// Code/data segment types (S = 1).
inline constexpr uint8_t kTypeDataRO = 0x0, kTypeDataRW = 0x2, kTypeCodeX = 0x8, kTypeCodeXR = 0xa,
                         kTypeCodeConfXR = 0xe, kTypeAccessed = 0x1;
// System descriptor / gate types (S = 0).
inline constexpr uint8_t kTypeLdt = 0x2, kTypeTss32 = 0x9, kTypeTss32Busy = 0xb, kTypeIntGate = 0xe,
                         kTypeTrapGate = 0xf, kTypeTaskGate = 0x5;

// Flat 4 GiB 32-bit segments (G = 1, D/B = 1). Types carry the accessed bit unless told not to.
constexpr uint64_t flat(uint8_t type, uint8_t dpl, bool present = true) {
  return seg_desc(0, 0xfffff, access(type, dpl, true, present), 0xc);
}
constexpr uint64_t code32(uint8_t dpl, uint8_t type = kTypeCodeXR | kTypeAccessed) {
  return flat(type, dpl);
}
constexpr uint64_t data32(uint8_t dpl, uint8_t type = kTypeDataRW | kTypeAccessed) {
  return flat(type, dpl);
}
constexpr uint64_t system_desc(uint32_t base, uint32_t limit, uint8_t type, bool present = true) {
  return seg_desc(base, limit, access(type, 0, false, present), 0);
}
// A 32-bit interrupt or trap gate.
constexpr uint64_t gate(uint16_t sel, uint32_t offset, uint8_t type = kTypeIntGate, uint8_t dpl = 0,
                        bool present = true) {
  return (uint64_t(offset) & 0xffff) | (uint64_t(sel) << 16) |
         (uint64_t(access(type, dpl, false, present)) << 40) | (uint64_t(offset >> 16) << 48);
}

// Selectors of the fixture's GDT.
inline constexpr uint16_t kKernelCode = 0x08, kKernelData = 0x10, kUserCode = 0x1b,
                          kUserData = 0x23, kTssSel = 0x28, kLdtSel = 0x30;

// Layout of the fixture's guest memory.
inline constexpr uint32_t kGdt = 0x1000, kGdtLimit = 0xff;   // 32 descriptors
inline constexpr uint32_t kIdt = 0x2000, kIdtLimit = 0x7ff;  // 256 gates
inline constexpr uint32_t kTss = 0x3000;
inline constexpr uint32_t kIoMapOffset = 0x68;
inline constexpr uint32_t kTssLimit = kIoMapOffset + 0x2000;  // full map + the trailing 0xff
inline constexpr uint32_t kLdt = 0x6000, kLdtLimit = 0x1f;    // 4 descriptors
inline constexpr uint32_t kUserStackTop = 0x8000, kKernelStackTop = 0x9000;
// Handler offsets are never fetched; make each vector's distinct.
constexpr uint32_t handler(uint8_t vector) {
  return 0x00c00000u + vector * 0x100u;
}

// A CPU in 32-bit protected mode at CPL 0 with flat kernel segments, a GDT with user segments,
// a TSS (SS0:ESP0 = kernel data:kKernelStackTop, an all-zero I/O bitmap) loaded in TR, an LDT
// descriptor (not loaded), and an IDT whose 256 gates are present DPL 0 interrupt gates.
class CpuTest : public ::testing::Test {
 protected:
  FakeMemory mem;
  FakePorts ports;
  FakeHooks hooks;
  Vcpu v;
  Cpu cpu{v, mem, ports, hooks};

  void SetUp() override {
    set_gdt(1, code32(0));
    set_gdt(2, data32(0));
    set_gdt(3, code32(3));
    set_gdt(4, data32(3));
    set_gdt(5, system_desc(kTss, kTssLimit, kTypeTss32Busy));
    set_gdt(6, system_desc(kLdt, kLdtLimit, kTypeLdt));
    for (unsigned vec = 0; vec < 256; ++vec)
      set_gate(uint8_t(vec), gate(kKernelCode, handler(vec)));
    mem.put32(kTss + 4, kKernelStackTop);
    mem.put16(kTss + 8, kKernelData);
    mem.put16(kTss + 0x66, kIoMapOffset);
    mem.put8(kTss + kTssLimit, 0xff);

    v.cr0 = cr0::PE | cr0::ET;
    v.gdtr = {kGdt, kGdtLimit};
    v.idtr = {kIdt, kIdtLimit};
    v.ldtr = Segment{};  // no LDT
    v.tr = Cpu::segment_from_descriptor(kTssSel, mem.get64(kGdt + 5 * 8));
    enter_ring(0);
    v.eip = 0x1000;
    v.write_eflags(fl::FIXED1);
    mem.log.clear();
  }

  void set_gdt(unsigned index, uint64_t desc) { mem.put64(kGdt + index * 8, desc); }
  uint64_t gdt(unsigned index) const { return mem.get64(kGdt + index * 8); }
  void set_ldt(unsigned index, uint64_t desc) { mem.put64(kLdt + index * 8, desc); }
  void set_gate(uint8_t vector, uint64_t g) { mem.put64(kIdt + vector * 8u, g); }

  // Puts the segment caches in the state a ring-0 (kernel selectors) or ring-3 (user selectors)
  // program has, without going through the code under test.
  void enter_ring(uint8_t cpl) {
    const uint16_t cs = cpl ? kUserCode : kKernelCode, ds = cpl ? kUserData : kKernelData;
    v.load_segment_cache(CS, Cpu::segment_from_descriptor(cs, gdt(cs >> 3)));
    for (Seg s : {ES, SS, DS, FS, GS})
      v.load_segment_cache(s, Cpu::segment_from_descriptor(ds, gdt(ds >> 3)));
    v.cpl = cpl;
    v.gpr[ESP] = cpl ? kUserStackTop : kKernelStackTop;
  }

  void set_iopl(unsigned iopl) { v.eflags = (v.eflags & ~fl::IOPL) | (iopl << 12); }

  // The n-th dword at the guest's ESP.
  uint32_t stack(unsigned n) const { return mem.get32(v.gpr[ESP] + 4 * n); }
};

}  // namespace testing
}  // namespace cpu
