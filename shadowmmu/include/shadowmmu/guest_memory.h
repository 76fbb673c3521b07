// The CPU's view of guest memory for accesses the monitor makes on the guest's behalf
// (descriptor tables, exception frames, lgdt operands): linear addresses resolved through
// the guest's paging state into the physmap.
#pragma once

#include "cpu/cpu.h"
#include "shadowmmu/address_space.h"
#include "shadowmmu/code_traces.h"
#include "shadowmmu/direct_code.h"
#include "shadowmmu/shadow.h"

namespace shadowmmu {

class GuestMemory final : public cpu::Memory {
 public:
  GuestMemory(AddressSpace& as, const cpu::Vcpu& v) : as_(as), v_(v) {}
  cpu::MaybeFault read(uint32_t linear, void* dst, unsigned len, Mode m) override;
  cpu::MaybeFault write(uint32_t linear, const void* src, unsigned len, Mode m) override;
  // Writes through the physmap bypass the window's protections; executable pages must hear.
  void set_direct_code(DirectCode* dc) { direct_code_ = dc; }
  // ... and so must pages that translations were made from.
  void set_code_traces(CodeTraces* ct) { code_traces_ = ct; }
  // ... and so must the shadow: page-table entries, and the rights of mapped pages.
  void set_shadow(Shadow* s) { shadow_ = s; }

 private:
  cpu::MaybeFault access(uint32_t linear, uint8_t* buf, unsigned len, Mode m, bool write);

  DirectCode* direct_code_ = nullptr;
  CodeTraces* code_traces_ = nullptr;
  Shadow* shadow_ = nullptr;
  AddressSpace& as_;
  const cpu::Vcpu& v_;
};

}  // namespace shadowmmu
