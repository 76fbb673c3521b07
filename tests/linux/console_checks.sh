# Checks on a Debian guest's console log, sourced by the tests/linux scripts. Each takes the
# log from $out; a failed check prints one FAIL line and sets fail=1, so a script reports
# every failure of a run before it exits.

# check REGEX WHAT: a console line must match REGEX (grep -E).
check() {
  if ! grep -Eq "$1" "$out"; then
    echo "FAIL: $2 (no line matching '$1')"
    fail=1
  fi
}

# The kernel log has no oops, BUG, WARNING, backtrace, panic or unknown-CPU line (issue 11).
check_kernel_log_clean() {
  local bad
  for bad in 'Oops' 'BUG:' 'WARNING:' 'Call Trace' 'Kernel panic' 'unknown CPU'; do
    if grep -q "$bad" "$out"; then
      echo "FAIL: the kernel log has '$bad'"
      fail=1
    fi
  done
}
