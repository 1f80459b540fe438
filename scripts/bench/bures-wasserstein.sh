#!/usr/bin/env bash
# One BW-DAM step for a batch of B = 100 queries against N = 1000 full Gaussians in d = 10 and
# d = 50 (the peer benchmark's BW workload, batched): `dam bench
# bures-wasserstein` next to a batched NumPy computation of the same step, on the same data, in the
# same run, on the same machine.
#
# For each d and each seed, NumPy draws the Gaussians once (numpy.random.default_rng(seed); means
# N(0, 1), covariances X Xᵀ / d + 0.1 I with X standard normal; memory first, then queries) and
# saves them as memory.npz and queries.npz; the NumPy reference and dam then both step those
# Gaussians. The NumPy reference computes all B x N distances W2^2 and all B x N maps (batched eigh,
# broadcasting), the softmax weights and the new states (m' = Σλμ, W' = Ā W Ā with Ā = Σλ A), with
# 1 and with $THREADS BLAS threads (the faster is the reference). dam runs with its engine on all
# cores and writes its new states; the script checks mean W2^2 (to 1e-9 relative) and the new
# states (to 1e-8 relative) against NumPy's and fails if they differ.
#
# Writes Docs/performance-gaussians.md (or $OUT) and an SVG plot beside it ($SVG); text after the
# line `<!-- notes -->` in the existing file is kept.
#
# Usage (from the repository root): bash scripts/bench/bures-wasserstein.sh
#   SEEDS="0 1 2" DIMENSIONS="10 50" N=1000 QUERIES=100 BETA=2 RUNS=5 NUMPY_RUNS=3 THREADS=2
# Needs a release build of `dam` (swift build -c release) and numpy (installed with pip if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-Docs/performance-gaussians.md}"
SVG="${SVG:-Docs/bench/bures-wasserstein.svg}"
DAM="${DAM:-.build/release/dam}"
N="${N:-1000}"
QUERIES="${QUERIES:-100}"
DIMENSIONS="${DIMENSIONS:-10 50}"
SEEDS="${SEEDS:-0 1 2}"
BETA="${BETA:-2}"
RUNS="${RUNS:-5}"
NUMPY_RUNS="${NUMPY_RUNS:-3}"
THREADS="${THREADS:-2}"
python3 -c "import numpy" 2>/dev/null || python3 -m pip install --quiet numpy
[ -x "$DAM" ] || { echo "no release build at $DAM: run swift build -c release" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The NumPy side: `draw` writes the workload, `step` times the reference step and saves its result.
cat > "$tmp/reference.py" <<'PY'
import json, sys, time
import numpy as np

def draw(seed, n, b, d, folder):
    rng = np.random.default_rng(seed)
    def gaussians(k):
        means = rng.normal(size=(k, d))
        x = rng.normal(size=(k, d, d))
        c = x @ x.transpose(0, 2, 1) / d + 0.1 * np.eye(d)
        return means, 0.5 * (c + c.transpose(0, 2, 1))  # exactly symmetric
    ms, cs = gaussians(n)
    mq, cq = gaussians(b)
    np.savez(f"{folder}/memory.npz", means=ms, covariances=cs)
    np.savez(f"{folder}/queries.npz", means=mq, covariances=cq)

def softmax_rows(w2, beta):
    z = -beta * w2
    z -= z.max(axis=1, keepdims=True)
    weights = np.exp(z)
    return weights / weights.sum(axis=1, keepdims=True)

def step(ms, cs, mq, cq, beta, queries=None):
    """One BW-DAM step of every query: W2^2 to every memory, softmax weights, maps, new states.

    The map from N(m, W) to N(μ, S) is A = W^-½ (W^½ S W^½)^½ W^-½. The query's square roots are
    computed once per query; every pair gets W^½ S W^½ (one large product per query and a batched
    one) and its batched eigh (eigenvalues for W2^2, vectors for the root), and the outer factors
    W^-½ are applied once per query to Σλ (W^½ S W^½)^½, which equals Σλ A by linearity (the same
    maps, two products per query instead of two per pair). Queries go in blocks so that a block's
    (b, N, d, d) arrays stay near 256 MB.
    """
    n, d = ms.shape
    b = mq.shape[0] if queries is None else queries
    mq, cq = mq[:b], cq[:b]
    w, u = np.linalg.eigh(cq)
    r = np.sqrt(w)
    wh = (u * r[:, None, :]) @ u.transpose(0, 2, 1)
    wih = (u / r[:, None, :]) @ u.transpose(0, 2, 1)
    trace_q = np.trace(cq, axis1=1, axis2=2)
    trace_s = np.trace(cs, axis1=1, axis2=2)
    block = max(1, min(b, int(32e6 // (n * d * d))))
    w2 = np.empty((b, n))
    abar = np.empty((b, d, d))
    stacked = cs.reshape(n * d, d)
    for q in range(0, b, block):
        s = slice(q, min(b, q + block))
        middle = wh[s][:, None] @ (stacked @ wh[s]).reshape(-1, n, d, d)  # W^½ S W^½, (b, N, d, d)
        lam, v = np.linalg.eigh(middle)
        root = np.sqrt(np.clip(lam, 0, None))
        w2[s] = (((mq[s][:, None, :] - ms[None]) ** 2).sum(-1) + trace_q[s][:, None] + trace_s[None]
                 - 2 * root.sum(-1))
        roots = (v * root[..., None, :]) @ v.swapaxes(-1, -2)  # (W^½ S W^½)^½ of every pair
        weights = softmax_rows(w2[s], beta)
        abar[s] = wih[s] @ np.einsum("qn,qnij->qij", weights, roots, optimize=True) @ wih[s]
    weights = softmax_rows(w2, beta)
    next_means = weights @ ms
    abar = 0.5 * (abar + abar.transpose(0, 2, 1))
    next_covariances = abar @ cq @ abar
    return w2, next_means, 0.5 * (next_covariances + next_covariances.transpose(0, 2, 1))

def time_step(folder, beta, runs, out, rival=None):
    """Median of `runs` timed steps. With `rival` (the JSON of the other thread count), stops after a
    run slower than 1.5 x the rival's median: this setting cannot be the faster one, and with
    OpenBLAS threads on small batched products a run can take many times longer."""
    memory, queries = np.load(f"{folder}/memory.npz"), np.load(f"{folder}/queries.npz")
    ms, cs, mq, cq = memory["means"], memory["covariances"], queries["means"], queries["covariances"]
    step(ms, cs, mq, cq, beta, queries=min(len(mq), 4))  # warm-up on a few queries
    cutoff = 1.5 * json.load(open(rival))["seconds"] if rival else float("inf")
    times, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        w2, next_means, next_covariances = step(ms, cs, mq, cq, beta)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        if times[-1] > cutoff:
            break
    np.savez(out, means=next_means, covariances=next_covariances)
    print(json.dumps({"seconds": sorted(times)[len(times) // 2], "cpu_seconds": sorted(cpu)[len(cpu) // 2],
                      "runs": len(times), "mean_w2_squared": float(np.mean(w2)), "numpy": np.__version__}))

def compare(reference, other):
    a, b = np.load(reference), np.load(other)
    def relative(key):
        return float(np.max(np.abs(a[key] - b[key])) / np.max(np.abs(a[key])))
    print(json.dumps({"means": relative("means"), "covariances": relative("covariances")}))

if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "draw":
        draw(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
    elif mode == "step":
        time_step(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5], *sys.argv[6:7])
    else:
        compare(sys.argv[2], sys.argv[3])
PY

uptime > "$tmp/load-start.txt"
for D in $DIMENSIONS; do
  for SEED in $SEEDS; do
    run="$tmp/d$D-s$SEED"
    mkdir -p "$run"
    echo "d = $D, seed $SEED" >&2
    python3 "$tmp/reference.py" draw "$SEED" "$N" "$QUERIES" "$D" "$run"
    # NumPy with one BLAS thread and with $THREADS (the faster is the reference).
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python3 "$tmp/reference.py" step "$run" "$BETA" "$NUMPY_RUNS" \
      "$run/numpy-next.npz" > "$run/numpy1.json"
    OMP_NUM_THREADS="$THREADS" OPENBLAS_NUM_THREADS="$THREADS" python3 "$tmp/reference.py" step "$run" "$BETA" \
      "$NUMPY_RUNS" "$run/numpy-next-$THREADS.npz" "$run/numpy1.json" > "$run/numpy2.json"
    # dam parallelises over patterns on all cores (Dispatch); OpenBLAS threads would only compete
    # with those workers, so it runs with one.
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$DAM" bench bures-wasserstein --memory "$run/memory.npz" \
      --queries "$run/queries.npz" --beta "$BETA" --runs "$RUNS" --output "$run/dam-next.npz" --json > "$run/dam.json"
    python3 "$tmp/reference.py" compare "$run/numpy-next.npz" "$run/dam-next.npz" > "$run/agreement.json"
  done
done
uptime > "$tmp/load-end.txt"

mkdir -p "$(dirname "$SVG")"
python3 - "$tmp" "$OUT" "$SVG" "$N" "$QUERIES" "$BETA" "$RUNS" "$NUMPY_RUNS" "$THREADS" "$DIMENSIONS" "$SEEDS" <<'PY'
import json, os, platform, sys, datetime
tmp, out, svg, N, B, beta, runs, numpy_runs, threads = sys.argv[1:10]
dimensions, seeds = sys.argv[10].split(), sys.argv[11].split()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
load = lambda name: open(os.path.join(tmp, name)).read().split("load average:")[-1].strip()
notes = ""
if os.path.exists(out):
    text = open(out).read()
    if "<!-- notes -->" in text:
        notes = text[text.index("<!-- notes -->"):]
numpy_version = "?"
results, failures = {}, []
for d in dimensions:
    for seed in seeds:
        folder = os.path.join(tmp, f"d{d}-s{seed}")
        numpy1 = json.load(open(os.path.join(folder, "numpy1.json")))
        numpy2 = json.load(open(os.path.join(folder, "numpy2.json")))
        dam = json.load(open(os.path.join(folder, "dam.json")))
        agreement = json.load(open(os.path.join(folder, "agreement.json")))
        numpy_version = numpy1["numpy"]
        step = dam["variants"][0] if len(dam["variants"]) == 1 else next(
            v for v in dam["variants"] if v["name"].startswith("batched step") and "all cores" in v["name"])
        best = min(numpy1["seconds"], numpy2["seconds"])
        w2 = abs(dam["mean_w2_squared"] - numpy1["mean_w2_squared"]) / abs(numpy1["mean_w2_squared"])
        state = max(agreement["means"], agreement["covariances"])
        if w2 > 1e-9:
            failures.append(f"d = {d}, seed {seed}: mean W2^2 differs by {w2:.2e} relative (bound 1e-9)")
        if state > 1e-8:
            failures.append(f"d = {d}, seed {seed}: next states differ by {state:.2e} relative (bound 1e-8)")
        results[(d, seed)] = dict(numpy1=numpy1, numpy2=numpy2, dam=dam, step=step, best=best, w2=w2, state=state,
                                  ratio=best / step["seconds"])
lines = [
    "# Performance: Gaussian memories (BW-DAM)",
    "",
    f"Command: `bash scripts/bench/bures-wasserstein.sh` (N = {N} stored Gaussians, B = {B} queries, "
    f"d in {{{', '.join(dimensions)}}}, seeds {{{', '.join(seeds)}}}, softmax beta = {beta}; dam: median of {runs} "
    f"runs after a warm-up, NumPy: median of {numpy_runs} runs after a warm-up on 4 queries, with {threads} BLAS "
    "threads stopped after a run 1.5x slower than the 1-thread median, which it then cannot beat), run on "
    f"{datetime.date.today().isoformat()} on {cpu}, {os.cpu_count()} logical cores, {platform.platform()}. "
    f"Load average (1, 5, 15 min) at the start: {load('load-start.txt')}; at the end: {load('load-end.txt')}. "
    f"A load above the {os.cpu_count()} cores means other jobs shared the machine and wall times are inflated; "
    "CPU time (all threads of the process) is the work done. Compare ratios within one run.",
    "",
    "Workload, the same Gaussians for both: for each d and seed, NumPy draws the memory and then the queries "
    "once with `numpy.random.default_rng(seed)` (means standard normal, covariances X X^T / d + 0.1 I with X "
    "standard normal, the peer benchmark's), saves them as `memory.npz` and `queries.npz`, and "
    "dam reads them (`dam bench bures-wasserstein --memory memory.npz --queries queries.npz --json`).",
    "",
    "One step of all B queries: W2^2 for all B x N pairs, softmax weights, the averaged maps and the new "
    "states. NumPy: every pair's W^1/2 S W^1/2 and its batched `eigh` (eigenvalues and vectors), the maps "
    "A = W^-1/2 (W^1/2 S W^1/2)^1/2 W^-1/2 summed with their weights (the outer factors once per query), "
    f"m' = sum lambda mu, W' = A-bar W A-bar; timed with 1 and {threads} BLAS threads, the faster in wall time "
    "is the reference. dam: `RetrievalEngine.snapshots(at:)` then `steps(from:)` on all cores (one OpenBLAS "
    "thread): values from eigenvalues only, maps only for the patterns whose weight can change the sum "
    "(`BuresWassersteinDivergence.accumulate(_:)`). The check columns compare dam with NumPy: mean W2^2 "
    "(must agree to 1e-9 relative) and the new means and covariances (largest difference over the largest "
    "entry, must be below 1e-8).",
    "",
]
for d in dimensions:
    lines += [
        f"## d = {d}",
        "",
        "| seed | dam wall s | dam CPU s | dam snapshots / steps s | NumPy 1 thread s | NumPy "
        f"{threads} threads s | NumPy CPU s (1 thread) | ratio NumPy / dam (wall) | mean W2^2 NumPy | mean W2^2 dam | "
        "W2^2 rel. diff | next states rel. diff |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for seed in seeds:
        r = results[(d, seed)]
        lines.append(
            f"| {seed} | {r['step']['seconds']:.3f} | {r['step']['cpu_seconds']:.3f} | "
            f"{r['step']['snapshot_seconds']:.3f} / {r['step']['steps_seconds']:.3f} | {r['numpy1']['seconds']:.3f} | "
            f"{r['numpy2']['seconds']:.3f} | {r['numpy1']['cpu_seconds']:.3f} | **{r['ratio']:.2f}x** | "
            f"{r['numpy1']['mean_w2_squared']:.10g} | {r['dam']['mean_w2_squared']:.10g} | {r['w2']:.1e} | "
            f"{r['state']:.1e} |")
    ratios = [results[(d, s)]["ratio"] for s in seeds]
    lines += ["", f"Issue 18's bar (the batched step of 100 queries at least 2x faster than NumPy on the same data): smallest "
              f"ratio {min(ratios):.2f}x over the seeds: **{'met' if min(ratios) >= 2 else 'not met'}** in this run.", ""]
if failures:
    lines += ["**Agreement check failed:** " + "; ".join(failures) + ".", ""]
open(out, "w").write("\n".join(lines) + ("\n" + notes if notes else ""))
print("\n".join(lines))

# SVG: per dimension, per seed, wall seconds of the NumPy reference and of dam (CPU as a light bar).
width, left, barH, gap = 900, 250, 10, 10
rows_per_panel = 2 * len(seeds)
height = 60 + len(dimensions) * (34 + rows_per_panel * (2 * barH + 2) + len(seeds) * gap)
parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
         f'<rect width="{width}" height="{height}" fill="white"/>',
         f'<text x="10" y="20" font-size="14">One BW-DAM step, B = {B} queries x N = {N} Gaussians, same data '
         f'(dark: wall seconds, light: CPU seconds)</text>',
         '<rect x="10" y="30" width="12" height="10" fill="#b03a2e"/><text x="26" y="39">NumPy (faster thread count)</text>',
         '<rect x="230" y="30" width="12" height="10" fill="#1f4e79"/><text x="246" y="39">dam (all cores)</text>']
y = 60
for d in dimensions:
    top = max(max(results[(d, s)]["best"], results[(d, s)]["numpy1"]["cpu_seconds"], results[(d, s)]["step"]["cpu_seconds"])
              for s in seeds)
    scale = (width - left - 110) / top
    parts.append(f'<text x="10" y="{y + 12}" font-size="13" font-weight="bold">d = {d}</text>')
    y += 24
    for s in seeds:
        r = results[(d, s)]
        fast = r["numpy1"] if r["numpy1"]["seconds"] <= r["numpy2"]["seconds"] else r["numpy2"]
        for name, wall, cpu_s, dark, light in [
            (f"seed {s}: NumPy", fast["seconds"], fast["cpu_seconds"], "#b03a2e", "#e6b0aa"),
            (f"seed {s}: dam ({r['ratio']:.2f}x)", r["step"]["seconds"], r["step"]["cpu_seconds"], "#1f4e79", "#9dc3e6"),
        ]:
            parts.append(f'<text x="10" y="{y + barH + 4}">{name}</text>')
            parts.append(f'<rect x="{left}" y="{y}" width="{wall * scale:.1f}" height="{barH}" fill="{dark}"/>')
            parts.append(f'<text x="{left + wall * scale + 4:.1f}" y="{y + barH - 1}">{wall:.3f} s</text>')
            parts.append(f'<rect x="{left}" y="{y + barH}" width="{cpu_s * scale:.1f}" height="{barH}" fill="{light}"/>')
            parts.append(f'<text x="{left + cpu_s * scale + 4:.1f}" y="{y + 2 * barH - 1}">{cpu_s:.3f} s CPU</text>')
            y += 2 * barH + 2
        y += gap
    y += 10
parts.append("</svg>")
open(svg, "w").write("\n".join(parts) + "\n")
if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
PY
