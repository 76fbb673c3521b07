#!/bin/bash
# The Debian guest's workload side by side: bt86, QEMU TCG (-cpu pentium3) and native (the same
# static i386 busybox run directly on the host, where the host can run 32-bit code). Each step
# is timed by the system that runs it (the guest's /proc/uptime, read with shell builtins before
# and after), so boot and console latency do not count; the boot row is the guest's uptime at
# its first command. Prints a Markdown table (seconds, and the ratio to native where there is
# one). Needs the guest built: cmake --build build -t linux_guest.
#   bench/linux/linux_bench.sh [BUILD_DIR] [bt86 run options...]
set -u
build=${1:-build}
[ $# -gt 0 ] && shift
dir=$build/linux-guest
for f in "$build/bt86" "$dir/vmlinuz" "$dir/initramfs.cpio.gz"; do
  [ -e "$f" ] || { echo "linux_bench: $f is missing (cmake --build $build -t bt86 linux_guest)" >&2; exit 2; }
done
command -v qemu-system-i386 >/dev/null || { echo "linux_bench: qemu-system-i386 is not installed" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

steps=(
  "fork_exec|i=0; while [ \$i -lt 200 ]; do /bin/true; i=\$((i + 1)); done"
  "dd_16M|dd if=/dev/zero of=/tmp/z bs=1M count=16 2>/dev/null"
  "md5sum_16M|md5sum /tmp/z >/dev/null"
  "ls_proc_self|ls -R /proc/self >/dev/null 2>&1"
  "awk_float|awk 'BEGIN { x = 1; for (i = 1; i <= 200000; i++) x = x * 1.000001 + 0.25; print x }' >/dev/null"
  "shell_loop|n=0; for i in \$(seq 1 1000); do n=\$((n + i * i)); done"
)
script() {  # one line per step: STEP name seconds
  # Bytes typed before the guest's UART driver is up can be lost (QEMU feeds its FIFO at once):
  # a throw-away line first, harmless whichever part of it arrives.
  echo ': ________________________________'
  echo 'read up rest < /proc/uptime; echo STEP boot $up'
  for s in "${steps[@]}"; do
    name=${s%%|*} cmd=${s#*|}
    echo "read a rest < /proc/uptime; $cmd; read b rest < /proc/uptime; echo STEP $name \$a \$b"
  done
}
guest_script() { script; echo poweroff; }

# STEP lines -> "name seconds"
steps_of() {
  tr -d '\r' < "$1" | awk '$1 == "STEP" && NF == 3 { print $2, $3 } $1 == "STEP" && NF == 4 { printf "%s %.2f\n", $2, $4 - $3 }'
}

guest_script | "$build/bt86" run --kernel "$dir/vmlinuz" --initrd "$dir/initramfs.cpio.gz" \
  --append console=ttyS0 --mem 256M "$@" > "$work/bt86.out" 2>&1
guest_script | qemu-system-i386 -accel tcg -cpu pentium3 -m 256 -kernel "$dir/vmlinuz" \
  -initrd "$dir/initramfs.cpio.gz" -append console=ttyS0 -display none -monitor none \
  -serial stdio -no-reboot > "$work/qemu.out" 2>&1
steps_of "$work/bt86.out" > "$work/bt86.steps"
steps_of "$work/qemu.out" > "$work/qemu.steps"

# Native: the guest's own busybox, unpacked from its Debian package, with an applet directory
# first in PATH so /bin/true and the rest are busybox's too (one process per command, as in the
# guest). Skipped, and said so, where the host cannot run i386 code.
deb=$(ls "${BT86_DEBIAN_CACHE:-$HOME/.cache/bt86/debian-i386}"/busybox-static_*_i386.deb 2>/dev/null | head -1)
native="" why="no busybox-static i386 package in the cache (cmake --build build -t linux_guest fetches it)"
if [ -n "$deb" ]; then
  why="this host cannot run i386 code (no compat mode)"
  dpkg-deb -x "$deb" "$work/root"
  bb=$work/root/bin/busybox
  if "$bb" true 2>/dev/null; then
    mkdir -p "$work/bin"
    "$bb" --install -s "$work/bin"
    ln -sf "$bb" "$work/bin/true"
    script | sed 's|/bin/true|true|; s|/tmp/z|'"$work"'/z|g' | grep -v 'STEP boot\|^: ' |
      PATH=$work/bin "$bb" sh > "$work/native.out" 2>&1
    steps_of "$work/native.out" > "$work/native.steps"
    native=yes
  fi
fi
[ -n "$native" ] || echo "native: not measured: $why" >&2

printf '| step | bt86 (s) | QEMU TCG (s) | native (s) | bt86 / QEMU | bt86 / native |\n|---|---|---|---|---|---|\n'
for s in boot "${steps[@]}"; do
  name=${s%%|*}
  b=$(awk -v n="$name" '$1 == n { print $2 }' "$work/bt86.steps")
  q=$(awk -v n="$name" '$1 == n { print $2 }' "$work/qemu.steps")
  n=$( [ -n "$native" ] && awk -v n="$name" '$1 == n { print $2 }' "$work/native.steps")
  awk -v name="$name" -v b="${b:-}" -v q="${q:-}" -v n="${n:-}" 'BEGIN {
    r1 = (b != "" && q > 0) ? sprintf("%.2f", b / q) : "-"
    r2 = (b != "" && n > 0) ? sprintf("%.1f", b / n) : "-"
    printf "| %s | %s | %s | %s | %s | %s |\n", name, b == "" ? "missing" : b, q == "" ? "missing" : q, n == "" ? "-" : n, r1, r2 }'
done
if [ ! -s "$work/bt86.steps" ] || [ ! -s "$work/qemu.steps" ]; then
  echo "linux_bench: a run printed no steps; its output:" >&2
  [ -s "$work/bt86.steps" ] || tail -20 "$work/bt86.out" >&2
  [ -s "$work/qemu.steps" ] || tail -20 "$work/qemu.out" >&2
  exit 1
fi
