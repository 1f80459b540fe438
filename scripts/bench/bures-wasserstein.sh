#!/usr/bin/env bash
# One BW-DAM retrieval step against N = 1000 full Gaussians in d = 50: `dam bench bures-wasserstein`
# next to the batched NumPy reference of /work/shared/bench/peers.py (distances only: S1^1/2 once,
# broadcast matmuls, batched eigvalsh), in the same run, on the same machine. Writes
# Docs/performance-gaussians.md (or $OUT).
#
# Usage (from the repository root): bash scripts/bench/bures-wasserstein.sh
# Needs a release build of `dam` (swift build -c release) and numpy (installed with pip if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-Docs/performance-gaussians.md}"
DAM="${DAM:-.build/release/dam}"
N="${N:-1000}"
D="${D:-50}"
BETA="${BETA:-2}"
RUNS="${RUNS:-7}"
THREADS="${THREADS:-2}"
python3 -c "import numpy" 2>/dev/null || python3 -m pip install --quiet numpy
[ -x "$DAM" ] || { echo "no release build at $DAM: run swift build -c release" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

numpy_run() {
python3 - "$N" "$D" "$RUNS" <<'PY'
import json, sys, time
import numpy as np
N, d, runs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
# The workload of peers.py's bench_bw (rng seeded with d).
rng = np.random.default_rng(d)
mq = rng.normal(size=(1, d)); B = rng.normal(size=(1, d, d)); Cq = B @ B.transpose(0, 2, 1) / d + 0.1 * np.eye(d)
ms = rng.normal(size=(N, d)); Bs = rng.normal(size=(N, d, d)); Cs = Bs @ Bs.transpose(0, 2, 1) / d + 0.1 * np.eye(d)
def sqrtm_psd(S):
    S = 0.5 * (S + S.T); w, U = np.linalg.eigh(S)
    return (U * np.sqrt(np.clip(w, 0.0, None))) @ U.T
def run_ref():
    S1h = sqrtm_psd(Cq[0])
    M = S1h @ Cs @ S1h
    M = 0.5 * (M + M.transpose(0, 2, 1))
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(M), 0, None)).sum(1)
    w2 = np.sum((ms - mq) ** 2, 1) + np.trace(Cq[0]) + np.trace(Cs, axis1=1, axis2=2) - 2 * cross
    return float(np.mean(w2))
value = run_ref()
times, cpu = [], []
for _ in range(runs):
    t, c = time.perf_counter(), time.process_time(); run_ref()
    times.append(time.perf_counter() - t); cpu.append(time.process_time() - c)
print(json.dumps({"seconds": sorted(times)[runs // 2], "cpu_seconds": sorted(cpu)[runs // 2],
                  "mean_w2_squared": value, "numpy": np.__version__}))
PY
}
# NumPy with one BLAS thread and with $THREADS (the better is the reference), dam with $THREADS.
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 numpy_run > "$tmp/numpy1.json"
OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" numpy_run > "$tmp/numpy.json"

OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" "$DAM" bench bures-wasserstein --memories "$N" --dimension "$D" --beta "$BETA" --runs "$RUNS" --json > "$tmp/dam.json"
# The system OpenBLAS (0.3.21) may not recognise a recent CPU and fall back to old SSE3 kernels
# ("Prescott"; OPENBLAS_VERBOSE=2 prints the choice). Run dam again with the kernels the CPU flags allow.
CORETYPE=""
if grep -qw avx512f /proc/cpuinfo; then CORETYPE=SkylakeX; elif grep -qw avx2 /proc/cpuinfo; then CORETYPE=Haswell; fi
if [ -n "$CORETYPE" ]; then
  OPENBLAS_CORETYPE="$CORETYPE" OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" "$DAM" bench bures-wasserstein --memories "$N" --dimension "$D" --beta "$BETA" --runs "$RUNS" --json > "$tmp/dam-core.json"
else
  echo '{"variants": []}' > "$tmp/dam-core.json"
fi

python3 - "$tmp/numpy.json" "$tmp/dam.json" "$OUT" "$N" "$D" "$BETA" "$RUNS" "$tmp/numpy1.json" "$THREADS" "$tmp/dam-core.json" "$CORETYPE" <<'PY'
import json, os, platform, subprocess, sys
numpy_result = json.load(open(sys.argv[1])); dam = json.load(open(sys.argv[2])); numpy1 = json.load(open(sys.argv[8]))
out, N, d, beta, runs, threads = sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[9]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
cores = os.cpu_count()
ref = min(numpy_result["seconds"], numpy1["seconds"])
what = "NumPy batched reference (distances only: broadcast matmul + batched eigvalsh), numpy " + numpy_result["numpy"]
rows = [(what + ", 1 BLAS thread", numpy1["seconds"], numpy1["cpu_seconds"]),
        (what + f", {threads} BLAS threads", numpy_result["seconds"], numpy_result["cpu_seconds"])]
rows += [("dam: " + v["name"], v["seconds"], v["cpu_seconds"]) for v in dam["variants"]]
core, coretype = json.load(open(sys.argv[10])), sys.argv[11]
rows += [(f"dam with OPENBLAS_CORETYPE={coretype}: " + v["name"], v["seconds"], v["cpu_seconds"]) for v in core["variants"]]
lines = [
    "# Performance: Gaussian memories (BW-DAM)",
    "",
    f"Command: `bash scripts/bench/bures-wasserstein.sh` (N = {N}, d = {d}, softmax beta = {beta}, median of {runs} runs "
    f"after a warm-up; NumPy with 1 and {threads} BLAS threads, the faster being the reference; dam with "
    f"OPENBLAS_NUM_THREADS = {threads}), on {cpu}, "
    f"{cores} logical cores, {platform.platform()}. Both sides ran in the same script, one after the other, on a "
    "machine shared with other jobs: compare ratios, not absolute times.",
    "",
    "Workload: one query and N stored Gaussians with standard normal means and covariances B B^T / d + 0.1 I "
    "(B standard normal), as in `/work/shared/bench/peers.py` (NumPy: that script's generator; dam: the same "
    "distribution from its own seeded generator; mean W2^2 "
    f"{numpy_result['mean_w2_squared']:.1f} (NumPy) and {dam['mean_w2_squared']:.1f} (dam)).",
    "",
    "A dam step is the whole retrieval step: W2^2 to every memory, softmax weights, the maps of the memories "
    "whose weight can change the averaged map (see `BuresWassersteinDivergence.accumulateAll`), and the new "
    "state; the NumPy reference computes the N distances only.",
    "",
    "Wall time is what a user waits; CPU time (all threads of the process) is the work done, which other "
    "jobs on a shared machine inflate much less than wall time.",
    "",
    "| what | wall seconds | CPU seconds | best NumPy wall / this wall | NumPy CPU (1 thread) / this CPU |",
    "| --- | --- | --- | --- | --- |",
]
for name, seconds, cpu in rows:
    lines.append(f"| {name} | {seconds:.4f} | {cpu:.4f} | {ref / seconds:.2f}x | {numpy1['cpu_seconds'] / cpu:.2f}x |")
lines += [
    "",
    f"Largest softmax weight at the query: {dam['largest_weight']:.3g}. The batched step's covariance differs from the "
    f"per-pattern path's by at most {dam['max_covariance_difference']:.2e} (absolute, entries of order 1).",
    "",
]
open(out, "w").write("\n".join(lines))
print("\n".join(lines))
PY
