// The report a stopped VM leaves on stderr: enough to see where and why without a debugger.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>

#include "bt/engine.h"
#include "machine.h"
#include "shadowmmu/page_walker.h"

namespace monitor {

namespace {
// Why the report cannot show the code at `linear`: outside RAM, or, with paging, the entry that
// does not map it or the table outside RAM the walk read (as all ones) to map it.
std::string unreadable_code(const cpu::Vcpu& v, const shadowmmu::AddressSpace& as,
                            uint32_t linear) {
  if (!v.paging()) return fmt::format("(code not readable: {:08x} is outside RAM)", linear);
  auto entry_at = [&](uint32_t pa) -> std::optional<uint32_t> {
    const uint8_t* p = as.phys(pa, 4);
    if (!p) return std::nullopt;
    uint32_t e;
    std::memcpy(&e, p, 4);
    return e;
  };
  const uint32_t pde_at = (v.cr3 & 0xfffff000u) + (linear >> 22) * 4;
  const auto pde = entry_at(pde_at);
  if (!pde)
    return fmt::format(
        "(code not readable: the page directory entry for linear {:08x} is at physical {:08x}, "
        "outside RAM)",
        linear, pde_at);
  if (!(*pde & 1)) return fmt::format("(code not readable: linear {:08x} is not mapped)", linear);
  if (!((*pde & 0x80) && (v.cr4 & cpu::cr4::PSE))) {
    const uint32_t pte_at = (*pde & 0xfffff000u) + ((linear >> 12) & 0x3ff) * 4;
    const auto pte = entry_at(pte_at);
    if (!pte)
      return fmt::format(
          "(code not readable: the page table entry for linear {:08x} is at physical {:08x}, "
          "outside RAM)",
          linear, pte_at);
    if (!(*pte & 1)) return fmt::format("(code not readable: linear {:08x} is not mapped)", linear);
  }
  auto pa = shadowmmu::inspect({as.physmap(), as.ram_size()}, v.cr0, v.cr3, v.cr4, linear);
  if (pa && *pa >= as.ram_size())
    return fmt::format("(code not readable: linear {:08x} is physical {:08x}, outside RAM)", linear,
                       *pa);
  return fmt::format("(code not readable: linear {:08x})", linear);
}

// Up to 15 code bytes at `linear`, read as the CPU would fetch them but without touching the
// guest's page tables (no A bits set): with paging, each page through the guest tables.
std::string code_line(const cpu::Vcpu& v, const shadowmmu::AddressSpace& as, uint32_t linear) {
  uint8_t bytes[15];
  size_t n = 0;
  std::optional<uint32_t> first_phys;
  while (n < sizeof bytes) {
    const uint32_t at = linear + uint32_t(n);
    std::optional<uint32_t> pa = at;
    if (v.paging()) pa = shadowmmu::inspect({as.physmap(), as.ram_size()}, v.cr0, v.cr3, v.cr4, at);
    if (!pa || *pa >= as.ram_size()) break;
    if (!first_phys) first_phys = *pa;
    // The rest of this page (both are contiguous in guest-physical memory only within it).
    const size_t take =
        std::min<size_t>({sizeof bytes - n, 0x1000 - (at & 0xfff), size_t(as.ram_size() - *pa)});
    std::memcpy(bytes + n, as.phys(*pa, take), take);
    n += take;
  }
  if (n == 0) return unreadable_code(v, as, linear);
  std::string where = v.paging() ? fmt::format("  (physical {:08x})", *first_phys) : "";
  return bt::disassemble(bytes, n, v.eip) + where;
}
}  // namespace

void print_state_report(const std::string& reason, const cpu::Vcpu& v,
                        const shadowmmu::AddressSpace& as) {
  std::string s = fmt::format("bt86: VM stopped: {}\n", reason);
  const uint32_t linear = v.seg[cpu::CS].base + v.eip;
  s += fmt::format("  EIP={:08x}  {}\n", v.eip, code_line(v, as, linear));
  const char* names[8] = {"EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"};
  s += "  ";
  for (int i = 0; i < 8; ++i)
    s += fmt::format("{}={:08x}{}", names[i], v.gpr[i], i == 3 ? "\n  " : " ");
  s += fmt::format("\n  EFLAGS={:08x} CPL={} CR0={:08x} CR2={:08x} CR3={:08x} CR4={:08x}\n",
                   v.read_eflags(), v.cpl, v.cr0, v.cr2, v.cr3, v.cr4);
  const char* segs[6] = {"ES", "CS", "SS", "DS", "FS", "GS"};
  for (int i = 0; i < 6; ++i)
    s += fmt::format("  {}={:04x} base={:08x} limit={:08x} attr={:04x}\n", segs[i], v.seg[i].sel,
                     v.seg[i].base, v.seg[i].limit, v.seg[i].attr);
  s += fmt::format("  GDTR={:08x}/{:04x} IDTR={:08x}/{:04x} LDTR={:04x} TR={:04x}\n", v.gdtr.base,
                   v.gdtr.limit, v.idtr.base, v.idtr.limit, v.ldtr.sel, v.tr.sel);
  std::fputs(s.c_str(), stderr);
}

}  // namespace monitor
