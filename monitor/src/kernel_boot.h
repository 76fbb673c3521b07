// Booting the kernel file named on the command line: the firmware tables, then the loader its
// format calls for (a Linux bzImage by its setup header, otherwise multiboot v1), and the vCPU
// in the state that boot protocol starts the kernel in.
#pragma once

#include <string>

#include "cpu/cpu.h"
#include "shadowmmu/address_space.h"

namespace monitor {

struct BootRequest {
  std::string kernel;  // path
  std::string cmdline;
  std::string initrd;  // path; empty: none (multiboot: "file arg,file2 arg" modules)
};

// Throws LoadError when the files cannot be booted.
void boot_kernel(const BootRequest& req, shadowmmu::AddressSpace& as, cpu::Cpu& cpu,
                 cpu::Vcpu& vcpu);

}  // namespace monitor
