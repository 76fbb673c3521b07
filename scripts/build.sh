#!/usr/bin/env bash
# Configures and builds bt86 in build/ (warnings are errors, as in CI).
set -euo pipefail
cd "$(dirname "$0")/.."
# The guest tests also run under qemu-system-i386 (-cpu pentium3) as a cross-check of the guests.
cmake -S . -B build -G Ninja -DBT86_WERROR=ON -DBT86_GUESTS_QEMU_TESTS=ON >/dev/null
cmake --build build -j"$(nproc)"
