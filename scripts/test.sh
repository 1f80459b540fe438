#!/usr/bin/env bash
# The test suite: installs missing system libraries, builds everything in release mode (numerical
# tests are 10-100x slower in debug) and runs every test with Swift Testing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release
swift build -c release --build-tests
exec swift test -c release --skip-build --disable-xctest "$@"
