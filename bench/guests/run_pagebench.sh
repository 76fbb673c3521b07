#!/usr/bin/env bash
# Runs pagebench under bt86 and under QEMU (TCG), both with 256 MiB of guest RAM (touch64m
# uses guest physical memory up to 208 MiB), and prints cycles per operation side by side.
# Every component must be there and every run must succeed: a missing piece or a failed run
# is an error (exit status 1 or 2), never a silently shorter table.
#
#   bench/guests/run_pagebench.sh [build-dir]      (default: <repo>/build)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-$repo/build}
script=run_pagebench
bench=pagebench
bt86=$build/bt86
guest=$build/guests/pagebench.elf
qemu=$(command -v qemu-system-i386 || true)
# bt86 needs about 15 s for the whole guest on a 2-core host (each #PF and CR3 load is a
# trip through the VMM): leave ample room.
timeout_s=${PAGEBENCH_TIMEOUT:-300}
# isa-debug-exit: guest_exit(0) becomes (0 << 1) | 1.
guest_pass=1
names=(pf_user pte_write cr3_switch global_flush syscall_super touch64m touch64m_total)

source "$here/bench_lib.sh"
bench_start
bench_need "$bt86" "build the targets bt86 and guests in $build"
bench_need "$guest" "build the targets bt86 and guests in $build"
bench_check_needs

bench_run bt86 $guest_pass "${names[@]}" -- "$bt86" run --kernel "$guest" --mem 256M
bench_qemu 256 "$guest"
bench_run qemu $guest_pass "${names[@]}" -- "${qemu_cmd[@]}"

printf '%-16s %14s %14s\n' "cycles/op" bt86 qemu-tcg
for name in "${names[@]}"; do
  printf '%-16s %14s %14s\n' "$name" "$(bench_value bt86 "$name")" "$(bench_value qemu "$name")"
done
# What each number includes, as the guest describes it.
grep '^# \(pf_user\|pte_write\|cr3_switch\|global_flush\|syscall_super\|touch64m\)' "$tmp/qemu.out" \
  "$tmp/bt86.out" 2>/dev/null | sed 's/^[^:]*://' | awk '!seen[$0]++' || true
bench_finish
