#include "kernel_boot.h"

#include "boot_files.h"
#include "bzimage_loader.h"
#include "firmware_tables.h"
#include "linux_setup_header.h"
#include "load_error.h"
#include "module_list.h"
#include "multiboot_loader.h"

namespace monitor {

namespace {
// The 32-bit boot protocol's entry state: flat protected mode, paging and interrupts off,
// CS = __BOOT_CS, DS = ES = SS = __BOOT_DS from a loaded GDT, ESI = the zero page, EBX = EBP =
// EDI = 0.
void enter_linux_32(cpu::Cpu& cpu, cpu::Vcpu& v, const LinuxEntry& e) {
  cpu.reset_multiboot(e.entry, 0, 0);
  v.load_segment_cache(cpu::CS, cpu::Segment{kLinuxBootCs, 0, 0xffffffff, cpu::kAttrCode32});
  for (cpu::Seg s : {cpu::ES, cpu::SS, cpu::DS, cpu::FS, cpu::GS})
    v.load_segment_cache(s, cpu::Segment{kLinuxBootDs, 0, 0xffffffff, cpu::kAttrData32});
  v.gdtr = {e.gdt_base, e.gdt_limit};
  v.gpr[cpu::ESI] = e.zero_page;
}
}  // namespace

void boot_kernel(const BootRequest& req, shadowmmu::AddressSpace& as, cpu::Cpu& cpu,
                 cpu::Vcpu& vcpu) {
  const uint32_t rsdp = install_firmware_tables(as);
  const GuestRam ram{as.physmap(), as.ram_size()};
  const auto image = read_boot_file(req.kernel, "kernel", ~0ull);
  if (looks_like_bzimage(image)) {
    LinuxBootFiles files{image, req.kernel, req.cmdline, {}, req.initrd};
    if (!req.initrd.empty()) files.initrd = read_boot_file(req.initrd, "initrd", as.ram_size());
    enter_linux_32(cpu, vcpu, load_bzimage(files, cpu.model(), rsdp, ram));
    return;
  }
  std::vector<MultibootModule> modules;
  for (const auto& m : parse_module_list(req.initrd))
    modules.push_back({read_boot_file(m.path, "module", as.ram_size()), m.cmdline});
  BootInfo boot = load_multiboot(image, req.kernel, req.cmdline, modules, ram);
  cpu.reset_multiboot(boot.entry, kMultibootBootloaderMagic, boot.info_addr);
}

}  // namespace monitor
