// The report a stopped VM leaves on stderr: enough to see where and why without a debugger.
#include <fmt/format.h>

#include <cstdio>

#include "bt/engine.h"
#include "machine.h"

namespace monitor {

void print_state_report(const std::string& reason, const cpu::Vcpu& v,
                        const shadowmmu::AddressSpace& as) {
  std::string s = fmt::format("bt86: VM stopped: {}\n", reason);
  const uint32_t linear = v.seg[cpu::CS].base + v.eip;
  const uint8_t* code = v.paging() ? nullptr : as.phys(linear, 1);
  size_t avail = code ? std::min<uint64_t>(15, as.ram_size() - linear) : 0;
  s += fmt::format("  EIP={:08x}  {}\n", v.eip,
                   code ? bt::disassemble(code, avail, v.eip) : "(code not readable)");
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
