#!/usr/bin/env bash
# The Sinkhorn-divergence peer workloads: dam (whole process) against POT, GeomLoss and OTT-JAX,
# timed in one run on this machine. Peers found in the Python environment are timed; POT is
# installed with pip when missing (the others are large: install them yourself, see
# scripts/bench/sinkhorn_peers.py). Usage: bash scripts/bench/sinkhorn.sh [extra options]
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh
swift build -c release --product dam
python3 -c "import ot" 2>/dev/null || python3 -m pip install --quiet pot
python3 scripts/bench/sinkhorn_peers.py --dam "$(swift build -c release --show-bin-path)/dam" "$@"
