#!/usr/bin/env bash
# The main job on a fresh machine: install dependencies, build, boot the default guest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/bt86 run --kernel build/guests/hello.elf --append "console=ttyS0" --stats "$@"
