#!/usr/bin/env bash
# Configures and builds bt86 in build/ (warnings are errors, as in CI).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DBT86_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
