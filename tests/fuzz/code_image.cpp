#include "code_image.h"

#include <elf.h>

#include <cstring>

namespace fuzz {

std::vector<uint8_t> multiboot_code_image(const uint8_t* code, size_t size) {
  struct Layout {
    Elf32_Ehdr eh;
    Elf32_Phdr ph;
    uint32_t multiboot[3];  // magic, flags, checksum: within the first 8 KiB, 4-byte aligned
  } f{};
  static_assert(sizeof(Layout) % 4 == 0);
  std::memcpy(f.eh.e_ident, ELFMAG, SELFMAG);
  f.eh.e_ident[EI_CLASS] = ELFCLASS32;
  f.eh.e_ident[EI_DATA] = ELFDATA2LSB;
  f.eh.e_ident[EI_VERSION] = EV_CURRENT;
  f.eh.e_type = ET_EXEC;
  f.eh.e_machine = EM_386;
  f.eh.e_version = EV_CURRENT;
  f.eh.e_entry = kCodeAddress;
  f.eh.e_phoff = offsetof(Layout, ph);
  f.eh.e_ehsize = sizeof(Elf32_Ehdr);
  f.eh.e_phentsize = sizeof(Elf32_Phdr);
  f.eh.e_phnum = 1;
  f.ph.p_type = PT_LOAD;
  f.ph.p_offset = sizeof(Layout);
  f.ph.p_vaddr = f.ph.p_paddr = kCodeAddress;
  f.ph.p_filesz = uint32_t(size);
  f.ph.p_memsz = uint32_t(size ? size : 1);
  f.ph.p_flags = PF_R | PF_W | PF_X;
  f.ph.p_align = 4;
  f.multiboot[0] = 0x1BADB002;
  f.multiboot[1] = 0;
  f.multiboot[2] = uint32_t(-(0x1BADB002u + 0));
  std::vector<uint8_t> img(sizeof f + size);
  std::memcpy(img.data(), &f, sizeof f);
  if (size) std::memcpy(img.data() + sizeof f, code, size);
  return img;
}

}  // namespace fuzz
