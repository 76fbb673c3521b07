#!/bin/sh
# Runs debench (bench/guests/debench.c) row by row under one or more bt86 binaries with direct
# execution, under the current bt86 with --no-direct (translated, for scale), and the compute
# row natively (debench_native), and prints TSC cycles per operation side by side.
#
#   bench/guests/run_debench.sh [BUILD] [LABEL=BT86 ...]
#
# BUILD (default <repo>/build) holds bt86, guests/debench.elf and guests/debench_native; each
# LABEL=BT86 adds a column for another bt86 binary that must run ring 3 directly too (e.g. an
# older commit's, for a before/after table); they come before BUILD's ("now"). DEBENCH_ROUNDS
# (default 1) repeats everything, columns alternating, and keeps each cell's best.
#
# Every row is meant to run directly in the direct columns: the run FAILS (exit 1) unless
# --stats=json shows direct execution on, entries, and at least as many direct-execution exits
# of the row's kind as the guest's ring-3 code made (debench.<row>_ops) — so a row that silently
# ran translated (no compat mode on this host, a page the scanner refused, IF = 0) is an error,
# never a number. Plain POSIX sh (busybox in the VM of scripts/vm: run_debench_vm.sh).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
[ $# -gt 0 ] && shift
build=$(cd "$build" && pwd)
guest=$build/guests/debench.elf
native=$build/guests/debench_native
rounds=${DEBENCH_ROUNDS:-1}
timeout_s=${DEBENCH_TIMEOUT:-900}
rows="int80 int80_super pf_user cr3_switch compute"
script=run_debench

# Columns: "label mode binary" (mode: direct or translated).
columns=""
for spec in "$@"; do
  case $spec in
    *=*) columns="$columns${spec%%=*} direct ${spec#*=}
" ;;
    *) echo "$script: column '$spec' is not LABEL=BT86" >&2; exit 2 ;;
  esac
done
columns="${columns}now direct $build/bt86
translated translated $build/bt86
"
missing=0
for f in "$guest" "$native" $(printf '%s' "$columns" | awk '{print $3}'); do
  [ -e "$f" ] || { echo "$script: missing $f (build the targets bt86 and guests)" >&2; missing=1; }
done
[ $missing = 0 ] || exit 2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

# The direct-execution exit that each row's ring-3 code must produce once per operation.
row_reason() {
  case $1 in
    int80 | int80_super | cr3_switch) echo "syscall (int 0x80)" ;;
    pf_user) echo "memory fault" ;;
    compute) echo "int n" ;; # its closing int 0x81: the loop's page ran directly
  esac
}

# value FILE NAME: the number of a `debench.NAME: N` line, or empty.
value() { sed -n "s/^debench\.$2: \([0-9][0-9]*\)\$/\1/p" "$1" | head -n 1; }

# de_check JSON ROW OPS: empty if the run executed the row directly, else why not.
de_check() {
  j=$(cat "$1")
  case $j in
    *'"direct_execution":{"enabled":false'*)
      echo "direct execution was off: $(printf '%s' "$j" |
        sed -n 's/.*"direct_execution":{"enabled":false,"why":"\([^"]*\)".*/\1/p')"
      return ;;
  esac
  de=$(printf '%s' "$j" | sed -n 's/.*"direct_execution":{"code_pages":{[^}]*}//p')
  entries=$(printf '%s' "$de" | sed -n 's/^,"enabled":true,"entries":\([0-9]*\),.*/\1/p')
  reason=$(row_reason "$2")
  exits=$(printf '%s' "$de" | sed -n "s/^[^}]*\"exits\":{[^}]*\"$reason\":\([0-9]*\).*/\1/p")
  if [ -z "$entries" ]; then
    echo "no direct-execution statistics in --stats=json"
  elif [ "$entries" -eq 0 ]; then
    echo "0 direct-execution entries: ring 3 ran translated"
  elif [ "${exits:-0}" -lt "$3" ]; then
    echo "${exits:-0} direct-execution '$reason' exits, fewer than the $3 the row's ring-3 code made: it ran (partly) translated"
  fi
}

# run_bt86 LABEL MODE BT86 ROW ROUND
run_bt86() {
  out=$tmp/$1.$4.$5
  extra=""
  [ "$2" = translated ] && extra=--no-direct
  status=0
  timeout "$timeout_s" "$3" run --kernel "$guest" --append "$4" $extra --stats=json \
    --stats-file "$out.json" >"$out.out" 2>"$out.err" </dev/null || status=$?
  v=$(value "$out.out" "$4")
  ops=$(value "$out.out" "$4_ops")
  why=""
  if [ "$status" != 1 ] || [ -z "$v" ] || [ -z "$ops" ]; then
    why="exit status $status (expected 1), result printed: ${v:-no}"
  elif [ "$2" = direct ]; then
    why=$(de_check "$out.json" "$4" "$ops")
  fi
  if [ -n "$why" ]; then
    echo "$script: FAILED: $1 ($3), row $4: $why" >&2
    tail -n 5 "$out.err" | sed 's/^/  | /' >&2
    failed=1
    return
  fi
  keep_best "$1" "$4" "$v"
  [ "$4" = compute ] && value "$out.out" compute_hash >"$tmp/hash.$1"
  return 0
}

keep_best() {
  f=$tmp/best.$1.$2
  if [ ! -e "$f" ] || [ "$3" -lt "$(cat "$f")" ]; then echo "$3" >"$f"; fi
}

run_native() {
  status=0
  timeout "$timeout_s" "$native" >"$tmp/native.out" 2>"$tmp/native.err" || status=$?
  v=$(value "$tmp/native.out" compute)
  if [ "$status" != 0 ] || [ -z "$v" ]; then
    echo "$script: FAILED: native $native: exit status $status$(grep -qE 'Exec format|Syntax error' \
      "$tmp/native.err" && echo ': this host cannot run 32-bit programs')" >&2
    sed 's/^/  | /' "$tmp/native.err" >&2
    failed=1
    return
  fi
  keep_best native compute "$v"
  value "$tmp/native.out" compute_hash >"$tmp/hash.native"
}

round=1
while [ "$round" -le "$rounds" ]; do
  for row in $rows; do
    printf '%s' "$columns" | while read -r label mode bin; do
      run_bt86 "$label" "$mode" "$bin" "$row" "$round"
      [ $failed = 0 ] || echo 1 >"$tmp/failed"
    done
  done
  run_native
  [ $failed = 0 ] || echo 1 >"$tmp/failed"
  round=$((round + 1))
done

labels=$(printf '%s' "$columns" | awk '{print $1}')
printf '%-12s' "cycles/op"
for l in $labels native; do printf ' %12s' "$l"; done
echo
for row in $rows; do
  printf '%-12s' "$row"
  for l in $labels native; do
    printf ' %12s' "$(cat "$tmp/best.$l.$row" 2>/dev/null || echo -)"
  done
  echo
done
echo "(TSC cycles per operation, best of $rounds round(s) of 5 runs each; compute: per 1000 iterations)"
# The compute loop computed the same thing everywhere.
for l in $labels; do
  if [ -e "$tmp/hash.$l" ] && [ -e "$tmp/hash.native" ] &&
    ! cmp -s "$tmp/hash.$l" "$tmp/hash.native"; then
    echo "$script: FAILED: compute result of $l ($(cat "$tmp/hash.$l")) differs from native ($(cat "$tmp/hash.native"))" >&2
    echo 1 >"$tmp/failed"
  fi
done
if [ -e "$tmp/failed" ]; then
  echo "$script: some runs failed or did not run directly (see above); the table is incomplete" >&2
  exit 1
fi
