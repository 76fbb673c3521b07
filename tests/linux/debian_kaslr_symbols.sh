#!/bin/sh
# --guest-symbols under KASLR: the Debian kernel boots twice. First with nokaslr, where the
# guest's /proc/kallsyms gives the link addresses of a few functions: they become a System.map.
# Then with the default command line (KASLR on) and --perf-map --guest-symbols that map: bt86
# must find the offset the kernel was moved by (monitor/src/kaslr_offset.h), so the perf map
# names the unit at do_idle's run-time address (from the guest's /proc/kallsyms again) do_idle.
# KASLR may pick offset 0; then the second boot is tried again (up to 3 times).
#   debian_kaslr_symbols.sh BT86 GUEST_DIR
set -u
bt86=$1 dir=$2
if [ ! -f "$dir/vmlinuz" ] || [ ! -f "$dir/initramfs-test.cpio.gz" ]; then
  echo "SKIP: no Debian guest in $dir (build it: cmake --build build -t linux_guest)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $*"
  echo "---- $out ----"
  cat "$out"
  exit 1
}
# Boots once with the kernel arguments $1 and bt86 options after it; the guest prints its
# kallsyms lines for the functions below as "KSYM address type name".
boot() {
  args=$1
  shift
  printf '%s\n' "grep -wE 'startup_32|do_idle|default_idle' /proc/kallsyms | sed 's/^/KSYM /'" \
    poweroff |
    "$bt86" run --kernel "$dir/vmlinuz" --initrd "$dir/initramfs-test.cpio.gz" \
      --append "console=ttyS0${args:+ $args}" --mem 256M "$@" > "$out" 2>&1 &
  pid=$!
  wait "$pid" || fail "bt86 exited with $? (0 = power-off)"
}
ksym() {  # name: its address in this boot's output
  tr -d '\r' < "$out" | sed -n "s/^KSYM \([0-9a-f]*\) [tTwW] $1\$/\1/p" | head -n 1
}

out=$work/link.out
boot nokaslr
tr -d '\r' < "$out" | sed -n 's/^KSYM //p' > "$work/System.map"
link=$(ksym do_idle)
[ -n "$link" ] && [ -n "$(ksym startup_32)" ] || fail "no do_idle/startup_32 in /proc/kallsyms"
echo "link-time: do_idle at $link"

for try in 1 2 3; do
  out=$work/kaslr.out
  boot "" --perf-map --guest-symbols "$work/System.map"
  map=/tmp/perf-$pid.map
  at=$(ksym do_idle)
  [ -n "$at" ] || fail "no do_idle in /proc/kallsyms (KASLR boot)"
  if [ "$at" = "$link" ]; then
    echo "KASLR left the kernel at its link address (try $try): again"
    rm -f "$map"
    continue
  fi
  echo "run-time: do_idle at $at"
  grep -q "^bt86: --guest-symbols: the kernel runs 0x[0-9a-f]* above its link address" "$out" ||
    fail "bt86 did not report the KASLR offset"
  line=$(grep " bt86 guest $at " "$map")
  rm -f "$map"
  [ -n "$line" ] || fail "no unit at do_idle's run-time address $at in the perf map"
  echo "perf map: $line"
  case "$line" in
    *" bt86 guest $at do_idle") echo "ok: the perf map names do_idle at its KASLR address" ;;
    *) fail "the unit at $at is not named do_idle: $line" ;;
  esac
  exit 0
done
fail "KASLR chose offset 0 three times"
