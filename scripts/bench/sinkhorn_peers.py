#!/usr/bin/env python3
"""Time the peers and `dam divergence sinkhorn` on the same Sinkhorn-divergence workloads, in one run.

Workloads (the peer benchmark's conventions): two uniform clouds in [0,1]^d drawn with
numpy.random.default_rng(n + d), or with --seeds S1,S2,... one pair per seed from
numpy.random.default_rng(1000 + s); n = m, cost ||x - y||^2 (not halved), debiased S_eps, marginal
error 1e-6. Timed, median of --repeats runs after one warm-up:
  * dam: the whole `dam divergence sinkhorn X.npy Y.npy --epsilon E --tolerance 1e-6 --json`
    process (start-up, file reading and all three solves), L1 marginal error <= 1e-6;
  * POT ot.bregman.empirical_sinkhorn_divergence (its default method; a LINEAR-cost divergence,
    a different quantity, timed for reference as the issue asks) and POT sinkhorn_log x3 with the
    value rebuilt as <C,G> + eps KL(G | a b^T) (stopThr 1e-6 on POT's L2 marginal check);
  * GeomLoss SamplesLoss('sinkhorn', p=2, blur=sqrt(eps/2), debias=True, scaling=0.95), x2, if
    installed (no tolerance: a fixed annealing schedule);
  * OTT-JAX sinkhorn_divergence (jit, compile excluded), threshold 1e-6, if installed.
The relative difference of each value from dam's is reported (dam agrees with independent float64
references to 1e-9 at tight tolerance). Peers are never installed by the package; run
`python3 -m pip install pot geomloss torch "jax[cpu]" ott-jax` yourself for the full set.
Writes a Markdown table to stdout and CSV to --csv.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")

import numpy as np


def clouds(n, d, seed=None):
    rng = np.random.default_rng(n + d if seed is None else 1000 + seed)
    return rng.random((n, d)), rng.random((n, d))


def sqdist(x, y):
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)


def timed(fn, repeats):
    value = fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dam", required=True)
    parser.add_argument("--sizes", default="1024,4096")
    parser.add_argument("--dims", default="2,64")
    parser.add_argument("--epsilons", default="0.05,0.005")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--csv", default=None)
    parser.add_argument("--seeds", default=None,
                        help="comma-separated seeds s: one pair of clouds per seed from default_rng(1000 + s) "
                             "(default: one pair from default_rng(n + d))")
    parser.add_argument("--peers", default="pot,geomloss,ott",
                        help="the peers to time, comma-separated, among those installed (OTT-JAX takes minutes "
                             "per case at d = 64)")
    parser.add_argument("--skip-slow", type=float, default=30.0,
                        help="time a peer whose warm-up run took longer than this many seconds by that run alone")
    parser.add_argument("--always-repeat", action="store_true",
                        help="time every peer --repeats times after its warm-up however slow it is (by default "
                             "a peer whose runs would take over a minute in all is timed once)")
    args = parser.parse_args()

    peers = []
    try:
        import ot
        peers.append("pot")
    except ImportError:
        pass
    try:
        import torch
        from geomloss import SamplesLoss
        torch.set_num_threads(2)
        peers.append("geomloss")
    except ImportError:
        pass
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        from ott.geometry import costs as ott_costs, pointcloud
        from ott.tools import sinkhorn_divergence as ott_sd
        peers.append("ott")
    except ImportError:
        pass

    wanted = set(args.peers.split(","))
    peers = [p for p in peers if p in wanted]
    rows = []
    work = tempfile.mkdtemp(prefix="dam-bench-")
    seeds = [None] if args.seeds is None else [int(v) for v in args.seeds.split(",")]
    for n, d, seed in [(int(n), int(d), s) for n in args.sizes.split(",") for d in args.dims.split(",")
                       for s in seeds]:
        if True:
            x, y = clouds(n, d, seed)
            xp, yp = os.path.join(work, f"x{n}_{d}_{seed}.npy"), os.path.join(work, f"y{n}_{d}_{seed}.npy")
            np.save(xp, x)
            np.save(yp, y)
            a = np.full(n, 1.0 / n)
            for eps in [float(v) for v in args.epsilons.split(",")]:
                def run_dam():
                    out = subprocess.run([args.dam, "divergence", "sinkhorn", xp, yp, "--epsilon", str(eps),
                                          "--tolerance", "1e-6", "--max-iterations", "100000", "--json"],
                                         check=True, capture_output=True, text=True).stdout
                    return json.loads(out)["value"]
                seconds, reference = timed(run_dam, args.repeats)
                rows.append(["dam divergence sinkhorn (process)", n, d, eps, seconds, reference, 0.0, seed])
                print(f"dam n={n} d={d} eps={eps} seed={seed}: {seconds:.4f} s  S={reference:.12g}", file=sys.stderr, flush=True)

                def add(name, fn):
                    start = time.perf_counter()
                    try:
                        value = fn()
                    except Exception as exc:  # a peer failing is a result too
                        rows.append([name, n, d, eps, float("nan"), float("nan"), float("nan"), seed])
                        print(f"{name}: failed ({type(exc).__name__})", file=sys.stderr)
                        return
                    warm = time.perf_counter() - start
                    if warm > args.skip_slow:
                        seconds, value = warm, value
                    else:
                        slow = warm * args.repeats >= 60 and not args.always_repeat
                        seconds, value = timed(fn, 1 if slow else args.repeats)
                    rel = abs(value - reference) / abs(reference) if np.isfinite(value) else float("nan")
                    rows.append([name, n, d, eps, seconds, value, rel, seed])
                    print(f"{name} n={n} d={d} eps={eps}: {seconds:.4f} s  value={value:.12g}", file=sys.stderr, flush=True)

                if "pot" in peers:
                    add("POT empirical_sinkhorn_divergence (linear cost)", lambda: float(
                        ot.bregman.empirical_sinkhorn_divergence(x, y, eps, a, a, metric="sqeuclidean",
                                                                 numIterMax=100000, stopThr=1e-6)))
                    if n <= 1024 and d <= 2:
                        costs = [sqdist(x, y), sqdist(x, x), sqdist(y, y)]

                        def pot_log():
                            out = []
                            for C in costs:
                                G = ot.bregman.sinkhorn_log(a, a, C, eps, numItermax=100000, stopThr=1e-6)
                                with np.errstate(divide="ignore", invalid="ignore"):
                                    kl = np.nansum(G * (np.log(G) - np.log(np.outer(a, a))))
                                out.append(float(np.sum(C * G) + eps * kl))
                            return out[0] - 0.5 * out[1] - 0.5 * out[2]
                        add("POT sinkhorn_log x3", pot_log)
                if "geomloss" in peers and n <= 4096:
                    loss = SamplesLoss("sinkhorn", p=2, blur=(eps / 2) ** 0.5, debias=True, scaling=0.95,
                                       backend="tensorized")
                    xt = torch.tensor(x, dtype=torch.float64)
                    yt = torch.tensor(y, dtype=torch.float64)
                    add("GeomLoss tensorized", lambda: 2 * float(loss(xt, yt)))
                if "ott" in peers:
                    @jax.jit
                    def ott_run(xx, yy):
                        div, _ = ott_sd.sinkhorn_divergence(
                            pointcloud.PointCloud, xx, yy, epsilon=eps, cost_fn=ott_costs.SqEuclidean(),
                            solve_kwargs=dict(threshold=1e-6, max_iterations=100000))
                        return div
                    xj, yj = jax.numpy.asarray(x), jax.numpy.asarray(y)
                    float(ott_run(xj, yj))  # compile
                    add("OTT-JAX (jit)", lambda: float(ott_run(xj, yj)))

    header = ["library", "n", "d", "eps", "seconds (median)", "value", "relative difference from dam", "seed"]
    if args.csv:
        with open(args.csv, "w", newline="") as handle:
            csv.writer(handle).writerows([header] + rows)
    print("| " + " | ".join(header) + " | dam speed-up |")
    print("|" + "---|" * (len(header) + 1))
    key = lambda r: (r[1], r[2], r[3], r[7])
    dam_times = {key(r): r[4] for r in rows if r[0].startswith("dam")}
    for r in rows:
        base = dam_times[key(r)]
        speedup = r[4] / base if np.isfinite(r[4]) else float("nan")
        seed = "" if r[7] is None else r[7]
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]:.4g} | {r[5]:.10g} | {r[6]:.1e} | {seed} | {speedup:.2f} |")
    # Per case: dam against the fastest peer (the bar: at least 2x on every seed).
    print()
    print("| n | d | eps | seed | dam (s) | fastest peer | its time (s) | fastest peer / dam |")
    print("|---|---|---|---|---|---|---|---|")
    for case, base in dam_times.items():
        peers_here = [r for r in rows if key(r) == case and not r[0].startswith("dam") and np.isfinite(r[4])]
        if not peers_here:
            continue
        best = min(peers_here, key=lambda r: r[4])
        seed = "" if case[3] is None else case[3]
        print(f"| {case[0]} | {case[1]} | {case[2]} | {seed} | {base:.4g} | {best[0]} | {best[4]:.4g} | "
              f"{best[4] / base:.2f} |")


if __name__ == "__main__":
    main()
