#!/usr/bin/env bash
# The initramfs the Debian guest tests boot: the guest's own (BASE) with a second archive
# appended that adds FILES to /bin (the kernel unpacks concatenated cpio archives in order).
#   test-initramfs.sh BASE OUT FILE...
set -euo pipefail
base="$1" out="$2"
shift 2
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"
cp "$@" "$work/bin/"
chmod 755 "$work"/bin/*
(cd "$work" && find bin -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) |
  gzip -9n > "$work/extra.cpio.gz"
cat "$base" "$work/extra.cpio.gz" > "$out"
