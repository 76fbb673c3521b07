#!/usr/bin/env bash
# Runs pagebench under bt86 and under QEMU (TCG), both with 256 MiB of guest RAM (touch64m
# uses guest physical memory up to 208 MiB), and prints cycles per operation side by side.
# Every component must be there and every run must succeed: a missing piece or a failed run
# is an error (exit status 1 or 2), never a silently shorter table.
#
#   bench/guests/run_pagebench.sh [build-dir]      (default: <repo>/build)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build}
bt86=$build/bt86
guest=$build/guests/pagebench.elf
qemu=$(command -v qemu-system-i386 || true)
# bt86 needs about 15 s for the whole guest on a 2-core host (each #PF and CR3 load is a
# trip through the VMM): leave ample room.
timeout_s=${PAGEBENCH_TIMEOUT:-300}
# isa-debug-exit: guest_exit(0) becomes (0 << 1) | 1.
guest_pass=1
names=(pf_user pte_write cr3_switch syscall_super touch64m touch64m_total)

missing=0
if [[ ! -x $bt86 ]]; then
  echo "run_pagebench: missing $bt86 (build the targets bt86 and guests in $build)" >&2
  missing=1
fi
if [[ ! -f $guest ]]; then
  echo "run_pagebench: missing $guest (build the targets bt86 and guests in $build)" >&2
  missing=1
fi
if [[ -z $qemu ]]; then
  echo "run_pagebench: qemu-system-i386 not found in PATH" >&2
  missing=1
fi
((missing == 0)) || exit 2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

# run <column> <expected status> <command...>: output in $tmp/<column>.out/.err. A run fails
# unless it exits as the guest passing and printed every measurement.
run() {
  local name=$1 want=$2
  shift 2
  local status=0 n
  timeout "$timeout_s" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null || status=$?
  local complete=1
  for n in "${names[@]}"; do
    grep -q "^pagebench\.$n: [0-9][0-9]*\$" "$tmp/$name.out" || complete=0
  done
  if ((status != want || !complete)); then
    echo "run_pagebench: $name FAILED (exit status $status, expected $want;" \
      "all results printed: $complete): $*" >&2
    sed 's/^/  | /' "$tmp/$name.out" "$tmp/$name.err" | tail -n 20 >&2
    failed=1
  fi
}

run bt86 $guest_pass "$bt86" run --kernel "$guest" --mem 256M
run qemu $guest_pass "$qemu" -accel tcg -serial stdio -display none -monitor none \
  -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot -m 256 -kernel "$guest"

value() {  # value <column> <name>: the number, or "-" if that run did not print it
  local v
  v=$(sed -n "s/^pagebench\.$2: \([0-9]*\)\$/\1/p" "$tmp/$1.out" | head -n 1)
  echo "${v:--}"
}

printf '%-16s %14s %14s\n' "cycles/op" bt86 qemu-tcg
for name in "${names[@]}"; do
  printf '%-16s %14s %14s\n' "$name" "$(value bt86 "$name")" "$(value qemu "$name")"
done
# What each number includes, as the guest describes it.
grep '^# \(pf_user\|pte_write\|cr3_switch\|touch64m\)' "$tmp/qemu.out" "$tmp/bt86.out" 2>/dev/null |
  sed 's/^[^:]*://' | awk '!seen[$0]++' || true

if ((failed)); then
  echo "run_pagebench: some runs failed; the table is incomplete" >&2
  exit 1
fi
