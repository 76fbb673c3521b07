#!/usr/bin/env bash
# Runs trapbench under bt86, under QEMU (TCG) and natively, and prints cycles per operation
# side by side. Every component must be there and every run must succeed: a missing piece
# or a failed run is an error (exit status 1 or 2), never a silently shorter table.
#
#   bench/guests/run_trapbench.sh [build-dir]      (default: <repo>/build)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build}
bt86=$build/bt86
guest=$build/guests/trapbench.elf
native=$build/guests/trapbench_native
qemu=$(command -v qemu-system-i386 || true)
timeout_s=${TRAPBENCH_TIMEOUT:-120}
# isa-debug-exit: guest_exit(0) becomes (0 << 1) | 1.
guest_pass=1

missing=0
for f in "$bt86" "$guest" "$native"; do
  if [[ ! -x $f && ! ( $f == *.elf && -f $f ) ]]; then
    echo "run_trapbench: missing $f (build the targets bt86 and guests in $build)" >&2
    missing=1
  fi
done
if [[ -z $qemu ]]; then
  echo "run_trapbench: qemu-system-i386 not found in PATH" >&2
  missing=1
fi
((missing == 0)) || exit 2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

# run <column> <expected status> <command...>: output in $tmp/<column>.out/.err
run() {
  local name=$1 want=$2
  shift 2
  local status=0
  timeout "$timeout_s" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null || status=$?
  if ((status != want)) || ! grep -q '^trapbench\.' "$tmp/$name.out"; then
    echo "run_trapbench: $name FAILED (exit status $status, expected $want): $*" >&2
    sed 's/^/  | /' "$tmp/$name.out" "$tmp/$name.err" | tail -n 20 >&2
    failed=1
  fi
}

run bt86 $guest_pass "$bt86" run --kernel "$guest"
run qemu $guest_pass "$qemu" -accel tcg -serial stdio -display none -monitor none \
  -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot -m 128 -kernel "$guest"
run native 0 "$native"
if grep -qE 'Exec format error|Syntax error' "$tmp/native.err"; then
  echo "run_trapbench: $native is a 32-bit Linux program: this host cannot execute it" \
    "(kernel without IA32 emulation, or no 32-bit libc)" >&2
fi

value() {  # value <column> <name>: the number, or "-" if that run did not print it
  local v
  v=$(sed -n "s/^trapbench\.$2: \([0-9]*\)\$/\1/p" "$tmp/$1.out" | head -n 1)
  echo "${v:--}"
}

printf '%-14s %12s %12s %12s\n' "cycles/op" bt86 qemu-tcg native
for name in int80 cpuid_user in_user in_kernel; do
  printf '%-14s %12s %12s %12s\n' "$name" "$(value bt86 "$name")" "$(value qemu "$name")" \
    "$(value native "$name")"
done

if ((failed)); then
  echo "run_trapbench: some runs failed; the table is incomplete" >&2
  exit 1
fi
