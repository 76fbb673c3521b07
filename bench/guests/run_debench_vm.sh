#!/usr/bin/env bash
# Runs run_debench.sh in the x86-64 VM of scripts/vm (QEMU TCG), where compat-mode code runs,
# for hosts that cannot run it. Take the machine's VM lock around it:
#
#   flock /tmp/bt86-vm.lock bench/guests/run_debench_vm.sh [BUILD] [LABEL=BT86 ...]
#
# Extra LABEL=BT86 columns (another commit's bt86, e.g. before=/path/to/old/bt86) are copied in
# and measured side by side with BUILD's bt86 in the same VM run. The numbers are TCG numbers:
# every instruction, system call and process switch of the VM's host is emulated.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$repo/build}" && pwd)
[ $# -gt 0 ] && shift
copies=(--copy "$build/bt86" --copy "$build/guests/debench.elf"
  --copy "$build/guests/debench_native" --copy "$here/run_debench.sh")
columns=()
for spec in "$@"; do
  [[ $spec == *=* ]] || { echo "run_debench_vm: column '$spec' is not LABEL=BT86" >&2; exit 2; }
  bin=$(realpath "${spec#*=}")
  copies+=(--copy "$bin")
  columns+=("${spec%%=*}=$bin")
done
exec "$repo/scripts/vm/run-in-vm.sh" --timeout "${DEBENCH_VM_TIMEOUT:-3000}" \
  --env "DEBENCH_ROUNDS=${DEBENCH_ROUNDS:-1}" "${copies[@]}" \
  -- /bin/sh "$here/run_debench.sh" "$build" "${columns[@]}"
