#!/usr/bin/env bash
# The main job: installs missing system libraries, builds `dam` in release mode and runs engines
# side by side on built-in data (`dam compare`: point clouds, Gaussians and vectors, several
# divergences, geometries, separation maps and temperatures on the same seeded queries). Prints a
# summary table per family and writes the report to reports/compare/. Extra arguments go to
# `dam compare` (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product dam
exec .build/release/dam compare "$@"
