#!/bin/sh
# Runs a command and sends it SIGINT (Ctrl-C) once its standard output shows a pattern, as a
# user would once the guest got somewhere; then passes on the command's output and status.
# Waiting for the guest's own word, not a fixed delay, keeps a loaded host from interrupting
# bt86 before its guest has run. Gives up (status 124) if the pattern is not seen in 50 s.
#   interrupt_when.sh PATTERN COMMAND...
set -u
pattern=$1
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$@" > "$work/out" 2> "$work/err" &
pid=$!
tries=0
until grep -q "$pattern" "$work/out"; do
  if ! kill -0 "$pid" 2> /dev/null || [ $tries -ge 500 ]; then
    echo "interrupt_when.sh: '$pattern' not seen" >&2
    kill -KILL "$pid" 2> /dev/null
    wait "$pid"
    cat "$work/out"
    cat "$work/err" >&2
    exit 124
  fi
  tries=$((tries + 1))
  sleep 0.1
done
kill -INT "$pid"
wait "$pid"
status=$?
cat "$work/out"
cat "$work/err" >&2
exit $status
