#!/usr/bin/env bash
# Builds bt86's Debian guest into OUT (a folder in the build tree): Debian 12's i386 686 kernel
# (linux-image-*-686-unsigned, non-PAE) as OUT/vmlinuz and an initramfs (cpio newc, gzip) with
# busybox-static and this folder's /init as OUT/initramfs.cpio.gz. The packages come from the
# machine's apt sources (i386 is added as a foreign architecture) and are kept outside the
# build tree, in $BT86_CACHE_DIR (default ~/.cache/bt86/debian-i386), so a new build or a
# fresh checkout needs no network. Nothing binary is committed.
#   guests/linux/fetch.sh OUT
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: fetch.sh OUT}"
debs="${BT86_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/bt86}/debian-i386"
mkdir -p "$out" "$debs"
out="$(cd "$out" && pwd)"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
die() {
  echo "bt86: guests/linux: $*" >&2
  exit 1
}

if ! ls "$debs"/linux-image-*-686-unsigned_*.deb "$debs"/busybox-static_*.deb \
    >/dev/null 2>&1; then
  if ! dpkg --print-foreign-architectures | grep -qx i386; then
    $SUDO dpkg --add-architecture i386
  fi
  if ! apt-cache show busybox-static:i386 >/dev/null 2>&1 ||
     ! apt-cache show linux-image-686:i386 >/dev/null 2>&1; then
    $SUDO apt-get update -qq >/dev/null 2>&1 || true
  fi
  apt-cache show linux-image-686:i386 >/dev/null 2>&1 ||
    die "cannot find Debian's i386 packages: apt-get update failed (no network, or no Debian mirror in the apt sources?)"
  # The 686 flavour's current ABI, from its metapackage: linux-image-6.1.0-N-686.
  kernel="$(apt-cache depends linux-image-686:i386 |
            sed -n 's/^ *Depends: \(linux-image-[0-9.]*-[0-9]*-686\)\(:i386\)\?$/\1/p' | head -n 1)"
  [ -n "$kernel" ] || die "cannot tell which kernel linux-image-686 (i386) depends on"
  cd "$debs"
  sandbox=()
  if [ "$(id -u)" = 0 ]; then sandbox=(-o APT::Sandbox::User=root); fi
  apt-get download -q "${sandbox[@]}" "${kernel}-unsigned:i386" busybox-static:i386 >/dev/null ||
    die "cannot download ${kernel}-unsigned and busybox-static (i386): no network?"
fi

kernel_deb="$(ls "$debs"/linux-image-*-686-unsigned_*.deb | sort -V | tail -n 1)"
busybox_deb="$(ls "$debs"/busybox-static_*.deb | sort -V | tail -n 1)"
work="$out/work"
rm -rf "$work"
mkdir -p "$work/kernel" "$work/busybox" "$work/root"/{bin,sbin,etc,proc,sys,dev,tmp,run,root}
dpkg-deb -x "$kernel_deb" "$work/kernel"
dpkg-deb -x "$busybox_deb" "$work/busybox"
cp "$(ls "$work"/kernel/boot/vmlinuz-* | head -n 1)" "$out/vmlinuz"
cp "$work/busybox/bin/busybox" "$work/root/bin/busybox"
cp "$here/init" "$work/root/init"
cp "$here/inittab" "$work/root/etc/inittab"
cp "$here/profile" "$work/root/etc/profile"
chmod 755 "$work/root/init" "$work/root/bin/busybox"
# The kernel opens /dev/console before anything is mounted, so the archive needs that node;
# making one takes root, so it is written here as a cpio entry of its own (the kernel unpacks
# concatenated archives).
newc() {  # name mode rdev_major rdev_minor ino
  local name="$1" namesize=$((${#1} + 1))
  printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
    "$5" "$2" 0 0 1 0 0 0 0 "$3" "$4" "$namesize" 0
  printf '%s\0' "$name"
  local pad=$(((4 - (110 + namesize) % 4) % 4))
  [ "$pad" = 0 ] || head -c "$pad" /dev/zero
}
{
  newc dev $((0040755)) 0 0 1
  newc dev/console $((0020600)) 5 1 2
  newc TRAILER!!! 0 0 0 0
  (cd "$work/root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet)
} > "$work/initramfs.cpio"
gzip -9n < "$work/initramfs.cpio" > "$out/initramfs.cpio.gz"
rm -rf "$work"
echo "bt86: guests/linux: $(basename "$kernel_deb" .deb) and $(basename "$busybox_deb" .deb)" \
     "-> $out/vmlinuz, $out/initramfs.cpio.gz"
