#!/usr/bin/env bash
# The main job: installs missing system libraries, builds `dam` in release mode and runs the
# demo on the built-in handwritten digits. Extra arguments go to `dam demo` (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product dam
exec .build/release/dam demo "$@"
