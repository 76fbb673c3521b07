#!/usr/bin/env bash
# Installs everything bt86 needs to build, test and benchmark, from Debian's packages only.
# Used by both README commands and by .ci/run.
set -euo pipefail
pkgs=(
  build-essential cmake ninja-build pkg-config
  ccache                             # rebuilds in other checkouts (CI's clean ones) are cheap
  gcc-multilib g++-multilib          # guests and the native alu oracle are 32-bit
  qemu-user                          # runs that oracle where the host kernel cannot
  qemu-system-x86                    # scripts/vm (compat-mode tests), bench/ comparisons
  libzydis-dev libasmjit-dev libfmt-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev libbenchmark-dev
  cpio                               # the Debian guest's initramfs (guests/linux)
  clang libclang-rt-dev llvm         # scripts/fuzz.sh: libFuzzer, sanitizers, llvm-symbolizer
)
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
