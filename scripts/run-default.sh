#!/usr/bin/env bash
# The main job on a fresh machine: install dependencies, build, fetch the Debian guest (Debian
# 12's i386 kernel and busybox, with apt, once; guests/linux) and boot it to a shell on this
# terminal. Ctrl-A x leaves bt86 (Ctrl-A h: help); `poweroff` in the guest ends it with status 0.
# Extra arguments go to `bt86 run` (for example --stats, --no-direct, --cpu pentium2).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cmake --build build -t linux_guest
exec build/bt86 run --kernel build/linux-guest/vmlinuz --initrd build/linux-guest/initramfs.cpio.gz \
  --append "console=ttyS0" --mem 256M "$@"
