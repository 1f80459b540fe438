#!/usr/bin/env bash
# The Sinkhorn-divergence peer workloads: dam (whole process) against POT, GeomLoss and OTT-JAX,
# timed in one run on this machine. Peers found in the Python environment are timed; POT is
# installed with pip when missing (the others are large: install them yourself, see
# scripts/bench/sinkhorn_peers.py). Usage: bash scripts/bench/sinkhorn.sh [extra options]
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh
# dam is timed as a whole process, start-up included, so it is built the way a command-line tool
# is shipped: with the Swift standard library and Foundation linked statically, which halves its
# start-up (10.6 ms of CPU against 21 ms for `dam --version`, perf stat -r 30), in its own build
# folder so that the normal build is left alone.
swift build -c release --product dam --static-swift-stdlib --scratch-path .build-static
python3 -c "import ot" 2>/dev/null || python3 -m pip install --quiet pot
python3 scripts/bench/sinkhorn_peers.py --dam .build-static/release/dam "$@"
