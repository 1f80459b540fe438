#!/usr/bin/env bash
# Grid Sinkhorn and grid barycenters: `dam bench grids` (every kernel backend, the dense solver,
# the barycenter workloads of scripts/bench/grids_peers.py, the backends' accuracy scan) and POT's
# convolutional_barycenter2d on the same problems, in one run on this machine. POT is installed
# with pip when missing. Writes Docs/bench/grids/ (Markdown, CSV, JSON, SVG).
# Usage: bash scripts/bench/grids.sh [--repeats N] [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh
swift build -c release --product dam
python3 -c "import ot" 2>/dev/null || python3 -m pip install --quiet pot
uptime
python3 scripts/bench/grids_peers.py --dam "$(swift build -c release --show-bin-path)/dam" "$@"
uptime
