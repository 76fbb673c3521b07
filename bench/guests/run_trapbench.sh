#!/usr/bin/env bash
# Runs trapbench under bt86, under QEMU (TCG) and natively, and prints cycles per operation
# side by side. Every component must be there and every run must succeed: a missing piece
# or a failed run is an error (exit status 1 or 2), never a silently shorter table.
#
#   bench/guests/run_trapbench.sh [build-dir]      (default: <repo>/build)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-$repo/build}
script=run_trapbench
bench=trapbench
bt86=$build/bt86
guest=$build/guests/trapbench.elf
native=$build/guests/trapbench_native
qemu=$(command -v qemu-system-i386 || true)
timeout_s=${TRAPBENCH_TIMEOUT:-120}
# isa-debug-exit: guest_exit(0) becomes (0 << 1) | 1.
guest_pass=1
names=(int80 int80_direct cpuid_user in_user in_kernel)
native_names=(int80 cpuid_user)  # a Linux process has no port I/O to time

source "$here/bench_lib.sh"
bench_start
for f in "$bt86" "$guest" "$native"; do
  bench_need "$f" "build the targets bt86 and guests in $build"
done
bench_check_needs

bench_run bt86 $guest_pass "${names[@]}" -- "$bt86" run --kernel "$guest"
bench_qemu 128 "$guest"
bench_run qemu $guest_pass "${names[@]}" -- "${qemu_cmd[@]}"
bench_run native 0 "${native_names[@]}" -- "$native"
if grep -qE 'Exec format error|Syntax error' "$tmp/native.err"; then
  echo "$script: $native is a 32-bit Linux program: this host cannot execute it" \
    "(kernel without IA32 emulation, or no 32-bit libc)" >&2
fi

printf '%-14s %12s %12s %12s\n' "cycles/op" bt86 qemu-tcg native
for name in "${names[@]}"; do
  printf '%-14s %12s %12s %12s\n' "$name" "$(bench_value bt86 "$name")" \
    "$(bench_value qemu "$name")" "$(bench_value native "$name")"
done
bench_finish
