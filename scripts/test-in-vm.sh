#!/usr/bin/env bash
# The tests that need the host CPU in 32-bit compatibility mode (direct execution, the native
# side of the differential tests, the 32-bit oracles) skip with a reason on hosts that cannot
# run it. This runs them in an x86-64 VM under QEMU TCG (scripts/vm/) instead, so they are
# still run. Note the VM's CPU is QEMU's emulator: the differential tests then compare the
# translator against QEMU, not silicon.
#   scripts/test-in-vm.sh [build dir]      (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(cd "${1:-build}" && pwd)
# Twice: with FSGSBASE, and without it (the signal trampoline and the translator's fs:/gs:
# accesses take other paths then).
for cpu in max,-smap max,-smap,-fsgsbase; do
  echo "test-in-vm: CPU model $cpu"
  scripts/vm/run-in-vm.sh --cpu "$cpu" --merge --timeout 1800 \
    --copy "$build/tests/de" --copy "$build/tests/diff" --copy "$build/bt86" \
    --copy "$build/guests" --copy "$PWD/scripts/vm/compat-suite.sh" \
    -- /bin/sh "$PWD/scripts/vm/compat-suite.sh" "$build"
done
