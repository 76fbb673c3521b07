#!/usr/bin/env bash
# Installs everything bt86 needs to build, test and benchmark, from Debian's packages only.
# Used by both README commands and by .ci/run.
set -euo pipefail
pkgs=(
  build-essential cmake ninja-build pkg-config
  gcc-multilib g++-multilib          # guests and the native alu oracle are 32-bit
  qemu-user                          # runs that oracle where the host kernel cannot
  libzydis-dev libasmjit-dev libfmt-dev libcli11-dev libseccomp-dev
  libgtest-dev libbenchmark-dev
)
optional=(qemu-system-x86)           # only for bench/ comparisons
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${BT86_BENCH_DEPS:-0}" = 1 ]; then missing+=("${optional[@]}"); fi
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
