#!/bin/sh
# run_then_show.sh FILE COMMAND...: runs the command (stdout discarded), then prints the file it
# wrote ("%p" in FILE: the command's PID, as in /tmp/perf-%p.map), the number of unit listings
# in it ("units: N"), removes it, and exits with the command's status.
out=$1
shift
"$@" >/dev/null &
pid=$!
wait $pid
status=$?
file=$(printf '%s' "$out" | sed "s/%p/$pid/")
cat "$file" || exit 99
echo "units: $(grep -c '^unit ' "$file")"
rm -f "$file"
exit $status
