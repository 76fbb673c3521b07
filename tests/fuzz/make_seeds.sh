#!/usr/bin/env bash
# Makes the seed inputs of the fuzz targets from the sources in tests/fuzz/seeds/ (and the
# linuxboot test kernel's setup header) with the host's binutils, into tests/fuzz/<target>/.
# The outputs are committed; run this again after changing a seed source.
#   translator/t_*: the machine byte (translator_fuzz.cpp), then ring-0 code assembled at
#   0x100000 (code_image.h)
#   multiboot/, bzimage/: loader_input.h's two-byte prefix (16 MiB of RAM, a 1 KiB module or
#   initrd), then the kernel file
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
prefix() { printf '\177\004'; }  # RAM (127 + 1) * 128 KiB = 16 MiB; extra file 4 * 256 bytes

for src in "$here"/seeds/t_*.S; do
  name="$(basename "$src" .S)"
  gcc -m32 -c "$src" -o "$tmp/$name.o"
  ld -m elf_i386 -Ttext=0x100000 -e 0x100000 --build-id=none -o "$tmp/$name.elf" "$tmp/$name.o"
  objcopy -O binary -j .text "$tmp/$name.elf" "$tmp/$name.bin"
  { printf '\000'; cat "$tmp/$name.bin"; } > "$here/translator/$name"
done
# The same code on the other CPU models (translator_fuzz.cpp's machine byte: 1 pentium2,
# 2 pentium) and with --strict-memory (4).
for name in t_fpu t_faults t_strings; do
  { printf '\001'; cat "$tmp/$name.bin"; } > "$here/translator/${name}_pentium2"
  { printf '\002'; cat "$tmp/$name.bin"; } > "$here/translator/${name}_pentium"
done
{ printf '\004'; cat "$tmp/t_paging.bin"; } > "$here/translator/t_paging_strict"
{ printf '\004'; cat "$tmp/t_unassigned.bin"; } > "$here/translator/t_unassigned_strict"

for src in "$here"/seeds/mb_*.S; do
  name="$(basename "$src" .S)"
  gcc -m32 -c "$src" -o "$tmp/$name.o"
  ld -m elf_i386 -n -s -Ttext=0x100000 -e 0x100000 --build-id=none -z noexecstack \
    -o "$tmp/$name.elf" "$tmp/$name.o"
  { prefix; cat "$tmp/$name.elf"; } > "$here/multiboot/$name"
done

# bzImages: the linuxboot test kernel's real-mode part, a little protected-mode code, syssize.
setup="$here/../monitor/guests/linuxboot/setup.S"
printf '\xfa\xf4' > "$tmp/pm.bin"  # cli; hlt
bzimage() {  # name load_addr relocatable req_flags
  gcc -m32 -c -DLOAD_ADDR="$2" -DRELOCATABLE="$3" -DREQ_FLAGS="$4" "$setup" -o "$tmp/$1.o"
  objcopy -O binary -j .text "$tmp/$1.o" "$tmp/$1.setup"
  cat "$tmp/$1.setup" "$tmp/pm.bin" > "$tmp/$1.img"
  printf '\001\000\000\000' | dd of="$tmp/$1.img" bs=1 seek=$((0x1f4)) conv=notrunc status=none
  { prefix; cat "$tmp/$1.img"; } > "$here/bzimage/bz_$1"
}
bzimage fixed 0x100000 0 0
bzimage relocatable 0x400000 1 0
bzimage req_pae 0x100000 0 0x41
