#!/usr/bin/env bash
# Every test on a fresh machine: install dependencies, build, run ctest (and, on hosts that
# cannot run 32-bit compat-mode code, the tests that need it in a VM); then the unit tests
# that can run under ASan/UBSan (label `sanitize`) in a separate sanitizer build. Translated
# code and the low-4-GiB guest window do not coexist with ASan's shadow memory, so tests that
# execute guest code are not in that set. Last, each fuzz target for a fixed short time
# (scripts/fuzz.sh, docs/FUZZING.md): any finding fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
# The Debian guest the linux.* tests boot (apt, once; the packages are cached outside build/).
cmake --build build -t linux_guest
(cd build && ctest --output-on-failure --no-tests=error -j"$(nproc)")
# Where this host cannot run 32-bit compat-mode code, the tests that need it skipped above
# (saying why); run them in an x86-64 VM instead, so direct execution is still tested.
if ! build/tests/guests/i386_probe 2>/dev/null; then
  echo "test-all: this host cannot run 32-bit code; running the compat-mode tests in a VM"
  scripts/test-in-vm.sh build
fi
cmake -S . -B build-sanitize -G Ninja -DBT86_WERROR=ON -DBT86_SANITIZE=ON >/dev/null
cmake --build build-sanitize -j"$(nproc)" --target sanitize_tests
(cd build-sanitize && ctest --output-on-failure --no-tests=error -L sanitize -j"$(nproc)")
scripts/fuzz.sh 30
