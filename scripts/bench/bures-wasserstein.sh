#!/usr/bin/env bash
# One BW-DAM retrieval step against N = 1000 full Gaussians in d = 10 and d = 50 (the two workloads
# of /work/shared/bench/peers.py's bench_bw): `dam bench bures-wasserstein` next to the batched NumPy
# reference of that script (distances only: S1^1/2 once, broadcast matmuls, batched eigvalsh), in
# the same run, on the same machine. Writes Docs/performance-gaussians.md (or $OUT) and an SVG plot
# beside it; text after the line `<!-- notes -->` in the existing file is kept.
#
# Usage (from the repository root): bash scripts/bench/bures-wasserstein.sh
# Needs a release build of `dam` (swift build -c release) and numpy (installed with pip if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-Docs/performance-gaussians.md}"
SVG="${SVG:-Docs/bench/bures-wasserstein.svg}"
DAM="${DAM:-.build/release/dam}"
N="${N:-1000}"
DIMENSIONS="${DIMENSIONS:-10 50}"
BETA="${BETA:-2}"
RUNS="${RUNS:-7}"
THREADS="${THREADS:-2}"
python3 -c "import numpy" 2>/dev/null || python3 -m pip install --quiet numpy
[ -x "$DAM" ] || { echo "no release build at $DAM: run swift build -c release" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

numpy_run() {
python3 - "$N" "$1" "$RUNS" <<'PY'
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
uptime > "$tmp/load-start.txt"
for D in $DIMENSIONS; do
  # NumPy with one BLAS thread and with $THREADS (the better is the reference).
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 numpy_run "$D" > "$tmp/numpy1-$D.json"
  OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" numpy_run "$D" > "$tmp/numpy-$D.json"
  # dam parallelises over patterns (Dispatch); OpenBLAS threads only compete with those workers,
  # so the main rows use one BLAS thread, and one run shows $THREADS BLAS threads as well.
  # (dam sets OPENBLAS_CORETYPE itself when the system OpenBLAS misdetects the CPU.)
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$DAM" bench bures-wasserstein --memories "$N" --dimension "$D" \
    --beta "$BETA" --runs "$RUNS" --json > "$tmp/dam-$D.json"
  OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" "$DAM" bench bures-wasserstein --memories "$N" \
    --dimension "$D" --beta "$BETA" --runs "$RUNS" --json > "$tmp/dam-blas-$D.json"
done
uptime > "$tmp/load-end.txt"

mkdir -p "$(dirname "$SVG")"
python3 - "$tmp" "$OUT" "$SVG" "$N" "$BETA" "$RUNS" "$THREADS" "$DIMENSIONS" <<'PY'
import json, os, platform, sys, datetime
tmp, out, svg, N, beta, runs, threads = sys.argv[1:8]
dimensions = sys.argv[8].split()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
load = lambda name: open(os.path.join(tmp, name)).read().split("load average:")[-1].strip()
notes = ""
if os.path.exists(out):
    text = open(out).read()
    if "<!-- notes -->" in text:
        notes = text[text.index("<!-- notes -->"):]
lines = [
    "# Performance: Gaussian memories (BW-DAM)",
    "",
    f"Command: `bash scripts/bench/bures-wasserstein.sh` (N = {N}, d in {{{', '.join(dimensions)}}}, softmax beta = {beta}, "
    f"median of {runs} runs after a warm-up), run on {datetime.date.today().isoformat()} on {cpu}, {os.cpu_count()} logical cores, "
    f"{platform.platform()}. Load average (1, 5, 15 min) at the start: {load('load-start.txt')}; at the end: "
    f"{load('load-end.txt')}. A load above the {os.cpu_count()} cores means other jobs shared the machine "
    "and wall times are inflated; CPU time (all threads of the process) is the work done. Compare ratios "
    "within one run.",
    "",
    "Workload: one query and N stored Gaussians with standard normal means and covariances B B^T / d + 0.1 I "
    "(B standard normal), as in `/work/shared/bench/peers.py` (NumPy: that script's generator; dam: the same "
    "distribution from its own seeded generator).",
    "",
    "A dam step is the whole retrieval step: W2^2 to every memory, softmax weights, the maps of the memories "
    "whose weight can change the averaged map (see `BuresWassersteinDivergence.accumulateAll`), and the new "
    "state; the NumPy reference computes the N distances only. The reference for the ratios is the faster "
    f"(in wall time) of NumPy with 1 and {threads} BLAS threads, in the same run.",
    "",
]
bars = []
for d in dimensions:
    numpy1 = json.load(open(os.path.join(tmp, f"numpy1-{d}.json")))
    numpy2 = json.load(open(os.path.join(tmp, f"numpy-{d}.json")))
    dam = json.load(open(os.path.join(tmp, f"dam-{d}.json")))
    damBLAS = json.load(open(os.path.join(tmp, f"dam-blas-{d}.json")))
    best = min(numpy1["seconds"], numpy2["seconds"])
    what = "NumPy " + numpy1["numpy"] + " batched reference (distances only)"
    rows = [(what + ", 1 BLAS thread", numpy1["seconds"], numpy1["cpu_seconds"]),
            (what + f", {threads} BLAS threads", numpy2["seconds"], numpy2["cpu_seconds"])]
    rows += [("dam: " + v["name"], v["seconds"], v["cpu_seconds"]) for v in dam["variants"]]
    rows += [(f"dam with {threads} OpenBLAS threads: " + v["name"], v["seconds"], v["cpu_seconds"])
             for v in damBLAS["variants"] if "all cores" in v["name"]]
    lines += [
        f"## d = {d}",
        "",
        f"Mean W2^2: {numpy1['mean_w2_squared']:.1f} (NumPy), {dam['mean_w2_squared']:.1f} (dam). Largest softmax "
        f"weight at the query: {dam['largest_weight']:.3g}. "
        f"The batched step's covariance differs from the per-pattern path's by at most "
        f"{dam['max_covariance_difference']:.2e} (absolute, entries of order 1).",
        "",
        "| what | wall seconds | CPU seconds | best NumPy wall / this wall | NumPy 1-thread CPU / this CPU |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, seconds, cpu_seconds in rows:
        lines.append(f"| {name} | {seconds:.4f} | {cpu_seconds:.4f} | {best / seconds:.2f}x | "
                     f"{numpy1['cpu_seconds'] / cpu_seconds:.2f}x |")
    step = next(v for v in dam["variants"] if v["name"] == "batched step, all cores")
    ratio = best / step["seconds"]
    lines += ["", f"Issue 8's bar (a step at least 2x faster than the best NumPy wall time): "
              f"{ratio:.2f}x in wall time, {numpy1['cpu_seconds'] / step['cpu_seconds']:.2f}x in CPU time against "
              f"NumPy on one thread: **{'met' if ratio >= 2 else 'not met'}** in this run.", ""]
    bars.append((d, [(n, s, c) for n, s, c in rows]))
open(out, "w").write("\n".join(lines) + ("\n" + notes if notes else ""))
print("\n".join(lines))

# SVG: wall and CPU seconds per row, one panel per dimension.
width, left, barH, gap = 900, 430, 9, 8
height = 40 + sum(30 + len(r) * (2 * barH + gap) for _, r in bars)
parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
         f'<text x="10" y="18" font-size="13">One BW-DAM step, N = {N} (wall: dark, CPU: light; seconds)</text>']
y = 40
for d, rows in bars:
    top = max(max(s, c) for _, s, c in rows)
    parts.append(f'<text x="10" y="{y + 10}" font-size="12" font-weight="bold">d = {d}</text>')
    y += 22
    for name, s, c in rows:
        scale = (width - left - 80) / top
        label = name if len(name) < 70 else name[:67] + "..."
        parts.append(f'<text x="10" y="{y + barH + 3}">{label}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{s * scale:.1f}" height="{barH}" fill="#1f4e79"/>')
        parts.append(f'<text x="{left + s * scale + 4:.1f}" y="{y + barH - 1}">{s:.4f}</text>')
        parts.append(f'<rect x="{left}" y="{y + barH}" width="{c * scale:.1f}" height="{barH}" fill="#9dc3e6"/>')
        parts.append(f'<text x="{left + c * scale + 4:.1f}" y="{y + 2 * barH - 1}">{c:.4f}</text>')
        y += 2 * barH + gap
    y += 8
parts.append("</svg>")
open(svg, "w").write("\n".join(parts) + "\n")
PY
