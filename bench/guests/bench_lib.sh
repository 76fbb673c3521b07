# Shared by the run_*bench.sh scripts (sourced): checking the pieces, running one column of the
# table, reading one number. The caller sets `script` (its name, for messages), `bench` (result
# lines are `<bench>.<name>: <number>`) and `timeout_s`, and calls bench_start first.

bench_start() {
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  failed=0
  missing=0
}

# bench_need <file> <what to build>: records a missing piece (bench_check_needs then exits 2).
bench_need() {
  if [[ ! -e $1 ]]; then
    echo "$script: missing $1 ($2)" >&2
    missing=1
  fi
}

bench_check_needs() {
  if [[ -z ${qemu:-} ]]; then
    echo "$script: qemu-system-i386 not found in PATH" >&2
    missing=1
  fi
  ((missing == 0)) || exit 2
}

# bench_run <column> <expected status> <result names...> -- <command...>: output goes to
# $tmp/<column>.out/.err. The run fails unless it exits as expected and printed every named
# result; a failure is reported with the run's last lines and makes the table incomplete.
bench_run() {
  local name=$1 want=$2
  shift 2
  local needed=() n status=0 complete=1
  while [[ $1 != -- ]]; do
    needed+=("$1")
    shift
  done
  shift
  timeout "$timeout_s" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null || status=$?
  for n in "${needed[@]}"; do
    grep -q "^$bench\.$n: [0-9][0-9]*\$" "$tmp/$name.out" || complete=0
  done
  if ((status != want || !complete)); then
    echo "$script: $name FAILED (exit status $status, expected $want;" \
      "all results printed: $complete): $*" >&2
    sed 's/^/  | /' "$tmp/$name.out" "$tmp/$name.err" | tail -n 20 >&2
    failed=1
  fi
}

# bench_qemu <MiB> <guest>: sets qemu_cmd to the guest under QEMU TCG with isa-debug-exit.
bench_qemu() {
  qemu_cmd=("$qemu" -accel tcg -serial stdio -display none -monitor none
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot -m "$1" -kernel "$2")
}

# bench_value <column> <name>: the number, or "-" if that run did not print it.
bench_value() {
  local v
  v=$(sed -n "s/^$bench\.$2: \([0-9]*\)\$/\1/p" "$tmp/$1.out" | head -n 1)
  echo "${v:--}"
}

bench_finish() {
  if ((failed)); then
    echo "$script: some runs failed; the table is incomplete" >&2
    exit 1
  fi
}
