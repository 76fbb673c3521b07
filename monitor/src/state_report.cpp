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
  if (n == 0)
    return v.paging() ? fmt::format("(code not readable: linear {:08x} is not mapped)", linear)
                      : fmt::format("(code not readable: {:08x} is outside RAM)", linear);
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
