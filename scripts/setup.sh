#!/usr/bin/env bash
# Installs the system libraries the package links against, only when they are missing:
# FFTW3, OpenBLAS (CBLAS), LAPACKE, zlib and pkg-config, from Debian's packages.
# Does nothing when pkg-config already finds all of them. FFTW3 (libfftw3-dev) is needed only with
# the package's FFTW trait, which is on by default and which scripts/test.sh builds both with and
# without, so it is always installed here.
set -euo pipefail

modules=(fftw3 openblas lapacke zlib)
packages=(pkg-config libfftw3-dev libopenblas-dev liblapacke-dev zlib1g-dev)

missing=0
if ! command -v pkg-config >/dev/null 2>&1; then
  missing=1
else
  for module in "${modules[@]}"; do
    if ! pkg-config --exists "$module"; then
      missing=1
    fi
  done
fi
[ "$missing" -eq 0 ] && exit 0

echo "setup: installing ${packages[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "setup: not root and no sudo; install as root: apt-get install ${packages[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >&2
$sudo apt-get install -y -q --no-install-recommends "${packages[@]}" >&2

for module in "${modules[@]}"; do
  if ! pkg-config --exists "$module"; then
    echo "setup: pkg-config still cannot find '$module' after installing" >&2
    exit 1
  fi
done
