#!/usr/bin/env bash
# Bounded fuzzing (docs/FUZZING.md): builds the libFuzzer targets with clang++ in build-fuzz/
# and runs each for a fixed time from its committed corpus (tests/fuzz/<target>/). Any crash,
# hang, sanitizer report or finding of the target's own checks fails the script; the input is
# left in build-fuzz/findings/ and the end of the fuzzer's log is printed.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default: 30 s; all targets)
#   BT86_FUZZ_KEEP=1 scripts/fuzz.sh 600 translator   (continue from the last run's corpus)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-30}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(multiboot bzimage translator)

# -O1 and line tables only: the build is part of CI time, and reports still name the lines.
cmake -S . -B build-fuzz -G Ninja -DBT86_WERROR=ON -DBT86_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_targets
mkdir -p build-fuzz/findings
failed=()
for t in "${targets[@]}"; do
  fuzzer="build-fuzz/tests/fuzz/${t}_fuzz"
  [ -x "$fuzzer" ] || { echo "fuzz: no target '$t'" >&2; exit 2; }
  # Per input: the loaders must be quick; the translator's watchdog (tests/fuzz/child_run.h)
  # ends a child after 0.1 s plus a grace of 10 s after SIGTERM, so 30 s is a real hang.
  # Inputs up to 8 KiB for the loaders (kernel files), 4 KiB of code for the translator.
  per_input=5 max_len=8192
  [ "$t" = translator ] && per_input=30 max_len=4096
  # What this run finds (libFuzzer adds to the first directory). Emptied first, so that the
  # time is fixed (libFuzzer runs all of its corpus before it counts time); BT86_FUZZ_KEEP=1
  # keeps it, to continue from an earlier run.
  work="build-fuzz/corpus/$t"
  [ "${BT86_FUZZ_KEEP:-0}" = 1 ] || rm -rf "$work"
  log="build-fuzz/findings/$t.log"
  mkdir -p "$work"
  echo "fuzz: $t for ${secs} s (log: $log)"
  if "$fuzzer" -max_total_time="$secs" -timeout="$per_input" -max_len="$max_len" -rss_limit_mb=2048 \
       -artifact_prefix="build-fuzz/findings/$t-" -print_final_stats=1 \
       "$work" "tests/fuzz/$t" >"$log" 2>&1; then
    grep -E "^stat::number_of_executed_units|^Done" "$log" | sed "s/^/fuzz: $t: /"
  else
    echo "fuzz: $t: FAILED; the end of its log:" >&2
    tail -n 60 "$log" >&2
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in: ${failed[*]} (inputs in build-fuzz/findings/)" >&2
  exit 1
fi
echo "fuzz: no findings"
