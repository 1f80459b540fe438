#!/usr/bin/env python3
"""Grid Sinkhorn and grid barycenters: `dam bench grids` and POT on the same problems, in one run.

1. Runs `dam bench grids --output OUT/raw` (per-iteration times of every grid backend and of the
   dense point-cloud solver; the barycenter workloads timed in-process; the accuracy scan of the
   backends against the dense solver). It writes its JSON and the barycenters (.npy).
2. Times POT's ot.bregman.convolutional_barycenter2d on the peer benchmark's barycenter workloads (`histograms` below)
   (the same `histograms(w, k)`: 64x64 and 256x256, k = 2 and 5, reg 0.004 on the unit square,
   uniform weights, numItermax 2000, stopThr 1e-6), method "sinkhorn" and "sinkhorn_log" (the
   latter only where a probe says a run finishes in --log-budget seconds), median of --repeats
   runs after one warm-up, wall and CPU time.
3. Accuracy, stated for both: POT stops when its spread sum_j std_i (V_i K U_i)_j < stopThr,
   checked every 10th iteration; dam stops when that same spread AND its weighted L1 input-side
   marginal error are both <= the tolerance (1e-6), checked every iteration. Both results are
   compared (L1, after normalising to mass 1) with a reference barycenter that dam solved to
   1e-11 (dam matches POT run to 1e-15 within 1e-8 of the peak: GridBarycenterTests).
4. Writes OUT/bench-grids.md (tables), results.csv, results.json, barycenters.svg and
   iterations.svg, and prints the Markdown.

Usage: python3 scripts/bench/grids_peers.py --dam PATH [--out DIR] [--repeats 5]
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")
os.environ.setdefault("MKL_NUM_THREADS", "2")

import numpy as np


def histograms(w, k):
    """The peer benchmark's histograms(w, k), unchanged: blobs and rings of width 0.04 on linspace(0, 1, w)^2."""
    t = np.linspace(0, 1, w)
    X, Y = np.meshgrid(t, t, indexing="ij")
    centres = [(0.25, 0.25), (0.75, 0.7), (0.3, 0.75), (0.7, 0.25), (0.5, 0.5)]
    out = []
    for i in range(k):
        cx, cy = centres[i]
        r = np.sqrt((X - cx) ** 2 + (Y - cy) ** 2)
        h = np.exp(-((r - 0.08 * (i % 2)) ** 2) / (2 * 0.04 ** 2))
        h = h + 1e-10
        out.append(h / h.sum())
    return np.stack(out), X


def timed(fn, repeats):
    result = fn()
    wall, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        result = fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu), result


def load():
    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3


def bar_chart(title, groups, series, values, unit, path):
    """Horizontal grouped bars on a log axis: values[g][s] (None = missing)."""
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
    finite = [v for row in values for v in row if v is not None and v > 0]
    lo = 10 ** math.floor(math.log10(min(finite)))
    hi = 10 ** math.ceil(math.log10(max(finite)))
    left, right, top, bar_h = 170, 40, 50, 14
    group_h = bar_h * len(series) + 14
    width = 760
    height = top + group_h * len(groups) + 40 + 18 * len(series)
    plot_w = width - left - right

    def x(v):
        return left + (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * plot_w

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
           f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>']
    decade = lo
    while decade <= hi * 1.0001:
        xx = x(decade)
        out.append(f'<line x1="{xx:.1f}" y1="{top - 8}" x2="{xx:.1f}" y2="{top + group_h * len(groups)}" stroke="#ddd"/>')
        out.append(f'<text x="{xx:.1f}" y="{top - 12}" text-anchor="middle">{decade:g} {unit}</text>')
        decade *= 10
    for g, name in enumerate(groups):
        y0 = top + g * group_h
        out.append(f'<text x="{left - 6}" y="{y0 + group_h / 2}" text-anchor="end">{name}</text>')
        for s, _ in enumerate(series):
            v = values[g][s]
            if v is None or not v > 0:
                continue
            y = y0 + s * bar_h
            out.append(f'<rect x="{left}" y="{y}" width="{x(v) - left:.1f}" height="{bar_h - 2}" fill="{colours[s % 6]}"/>')
            out.append(f'<text x="{x(v) + 3:.1f}" y="{y + bar_h - 4}">{v:.3g}</text>')
    ly = top + group_h * len(groups) + 20
    for s, name in enumerate(series):
        out.append(f'<rect x="{left}" y="{ly + 18 * s - 10}" width="12" height="12" fill="{colours[s % 6]}"/>')
        out.append(f'<text x="{left + 18}" y="{ly + 18 * s}">{name}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def time_pot(ot, raw, args):
    pot_rows = []
    for method in ("sinkhorn", "sinkhorn_log"):
        for w in (64, 256):
            for k in (2, 5):
                A, X = histograms(w, k)
                reference = np.load(os.path.join(raw, f"reference-{w}-{k}.npy"))
                print(f"POT {method} {w}x{w} k={k} ...", file=sys.stderr)
                if method == "sinkhorn_log":
                    t = time.perf_counter()
                    ot.bregman.convolutional_barycenter2d(A, 0.004, method=method, numItermax=2,
                                                          stopThr=0.0, warn=False)
                    per_it = (time.perf_counter() - t) / 2
                    if per_it * 200 > args.log_budget:
                        pot_rows.append(dict(method=method, width=w, count=k, seconds=None, cpu_seconds=None,
                                             iterations=None, pot_error=None, l1_to_reference=None, centre_x=None,
                                             note=f"skipped: {per_it:.2f} s per iteration, a run would take minutes"))
                        continue
                info = {}

                def run():
                    bar, lg = ot.bregman.convolutional_barycenter2d(
                        A, 0.004, method=method, numItermax=2000, stopThr=1e-6, log=True, warn=False)
                    info["it"] = lg["niter"] + 1
                    info["err"] = float(lg["err"][-1]) if lg["err"] else float("nan")
                    return bar

                wall, cpu, bar = timed(run, args.repeats)
                bar = np.asarray(bar) / np.sum(bar)
                pot_rows.append(dict(
                    method=method, width=w, count=k, seconds=wall, cpu_seconds=cpu, iterations=info["it"],
                    pot_error=info["err"], l1_to_reference=float(np.abs(bar - reference).sum()),
                    centre_x=float(np.sum(bar * X)),
                    note="hit numItermax 2000" if info["it"] >= 2000 else ""))
    return pot_rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dam", required=True)
    parser.add_argument("--out", default="Docs/bench/grids")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=10,
                        help="Sinkhorn iterations per timed run of dam's per-iteration section")
    parser.add_argument("--skip", default="",
                        help="stages not to rerun, comma-separated (barycenters, pot, iterations, accuracy); "
                             "their earlier results in OUT/raw* are used")
    parser.add_argument("--log-budget", type=float, default=120.0,
                        help="skip POT sinkhorn_log runs estimated to take longer (seconds, one run)")
    args = parser.parse_args()
    import ot

    skip = set(filter(None, args.skip.split(",")))
    raw = os.path.join(args.out, "raw")
    iterations_dir = os.path.join(args.out, "raw-iterations")
    accuracy_dir = os.path.join(args.out, "raw-accuracy")
    load_before = load()
    started = time.time()

    def dam_stage(section, folder, extra):
        if section in skip:
            return
        print(f"dam bench grids --sections {section} ...", file=sys.stderr)
        subprocess.run([args.dam, "bench", "grids", "--sections", section, "--output", folder] + extra,
                       check=True, stdout=subprocess.DEVNULL)

    # Barycenters first (dam, then POT on the same problems), then the per-iteration times and
    # the accuracy scan.
    dam_stage("barycenters", raw, ["--repeats", str(args.repeats)])
    pot_rows = []
    if "pot" in skip:
        with open(os.path.join(raw, "pot.json")) as f:
            pot_rows = json.load(f)
    else:
        pot_rows = time_pot(ot, raw, args)
        with open(os.path.join(raw, "pot.json"), "w") as f:
            json.dump(pot_rows, f, indent=1)
    dam_stage("iterations", iterations_dir, ["--repeats", str(args.repeats), "--iterations", str(args.iterations)])
    dam_stage("accuracy", accuracy_dir, [])
    dam = {"barycenters": [], "iterations": [], "accuracy": []}
    for folder, key in ((raw, "barycenters"), (iterations_dir, "iterations"), (accuracy_dir, "accuracy")):
        path = os.path.join(folder, "dam-grids.json")
        if os.path.exists(path):
            with open(path) as f:
                loaded = json.load(f)
            dam[key] = loaded[key]
            if key == "barycenters":
                dam["tolerance"] = loaded["tolerance"]
    elapsed = time.time() - started
    load_after = load()

    # ---- tables
    dam_bar = {(r["width"], r["count"], r["backend"]): r for r in dam["barycenters"]}
    pot_bar = {(r["width"], r["count"], r["method"]): r for r in pot_rows}
    lines = []
    lines.append(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
                 f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}; "
                 f"POT {ot.__version__}, NumPy {np.__version__}; whole run {elapsed:.0f} s.")
    lines.append("")
    lines.append("### Barycenters (peer benchmark workloads: reg 0.004 on the unit square, uniform weights)")
    lines.append("")
    lines.append("Median of %d runs after a warm-up, wall time (CPU time in brackets). Accuracy: L1 distance "
                 "of the normalised barycenter to dam's barycenter at tolerance 1e-11; dam stops when POT's "
                 "spread and its own L1 marginal error are both <= %g (checked every iteration), POT when "
                 "its spread < 1e-6 (checked every 10th iteration)." % (args.repeats, dam["tolerance"]))
    lines.append("")
    lines.append("| grid | k | dam (separable BLAS) | iterations | dam spread | dam L1 to ref. | POT sinkhorn | iterations | POT spread | POT L1 to ref. | POT / dam | bar >= 3x | POT sinkhorn_log | dam log backend |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
    csv_rows = []
    verdicts = []
    for w in (64, 256):
        for k in (2, 5):
            d = dam_bar.get((w, k, "separable"))
            dl = dam_bar.get((w, k, "log"))
            p = pot_bar.get((w, k, "sinkhorn"))
            pl = pot_bar.get((w, k, "sinkhorn_log"))
            ratio = p["seconds"] / d["seconds"] if d and p and p["seconds"] else None
            met = ""
            if w == 256 and ratio is not None:
                met = "met" if ratio >= 3 else "NOT met"
                verdicts.append((k, ratio, met))
            log_cell = (f"{pl['seconds']:.3g} s ({pl['iterations']} it.)" if pl and pl["seconds"]
                        else (pl["note"] if pl else ""))
            dl_cell = f"{dl['seconds']:.3g} s ({dl['iterations']} it.)" if dl else "not timed (slow)"
            lines.append(
                f"| {w}x{w} | {k} | {d['seconds']:.3g} s ({d['cpuSeconds']:.3g}) | {d['iterations']} | "
                f"{d['spread']:.1e} | {d['l1ToReference']:.1e} | {p['seconds']:.3g} s ({p['cpu_seconds']:.3g}) | "
                f"{p['iterations']} | {p['pot_error']:.1e} | {p['l1_to_reference']:.1e} | "
                f"{ratio:.2f}x | {met} | {log_cell} | {dl_cell} |")
            csv_rows.append(dict(
                grid=f"{w}x{w}", k=k, dam_seconds=d["seconds"], dam_cpu_seconds=d["cpuSeconds"],
                dam_iterations=d["iterations"], dam_spread=d["spread"], dam_marginal_error=d["marginalError"],
                dam_l1_to_reference=d["l1ToReference"], pot_seconds=p["seconds"], pot_cpu_seconds=p["cpu_seconds"],
                pot_iterations=p["iterations"], pot_spread=p["pot_error"], pot_l1_to_reference=p["l1_to_reference"],
                ratio_pot_over_dam=ratio,
                pot_log_seconds=pl["seconds"] if pl else None,
                dam_log_seconds=dl["seconds"] if dl else None,
                dam_centre_x=d["centreX"], pot_centre_x=p["centre_x"]))
    lines.append("")
    for k, ratio, met in verdicts:
        lines.append(f"Issue 8's bar (>= 3x faster than POT at 256x256), k = {k}: {met} in this run ({ratio:.2f}x).")
    lines.append("")
    lines.append("### Time per Sinkhorn iteration (two kernel applications, OT_eps(a, b), unit square/cube)")
    lines.append("")
    lines.append("| grid | eps / D^2 | solver | ms / iteration | CPU ms / iteration | ratio to separable |")
    lines.append("| --- | ---: | --- | ---: | ---: | ---: |")
    for r in dam["iterations"]:
        lines.append(f"| {r['grid']} | {r['epsilonOverD2']:g} | {r['solver']} | {1e3 * r['secondsPerIteration']:.3g} | "
                     f"{1e3 * r['cpuSecondsPerIteration']:.3g} | {r['ratioToSeparable']:.3g} |")
    lines.append("")
    lines.append("The dense point-cloud solver is timed on 64x64 only: 256x256 would need a 65536^2 kernel (34 GB).")
    lines.append("")
    lines.append("### Accuracy of the grid backends against the dense log-domain solver (debiased S_eps)")
    lines.append("")
    lines.append("| grid | pair | eps / D^2 | S_eps (dense) | separable | log | FFT | separable s | log s |")
    lines.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    acc = {}
    for r in dam["accuracy"]:
        acc.setdefault((r["grid"], r["pair"], r["epsilonOverD2"]), {})[r["backend"]] = r
    for (grid, pair, ratio), by in acc.items():
        def cell(b):
            r = by.get(b)
            if r is None:
                return ""
            return f"{r['relativeError']:.1e}" if r.get("relativeError") is not None else "failed"
        dense = next(iter(by.values()))["dense"]
        lines.append(f"| {grid} | {pair} | {ratio:g} | {dense:.10g} | {cell('separable')} | {cell('log')} | "
                     f"{cell('fft')} | {by['separable']['seconds']:.3g} | {by['log']['seconds']:.3g} |")
    markdown = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "bench-grids.md"), "w") as f:
        f.write(markdown)
    with open(os.path.join(args.out, "results.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(csv_rows[0].keys()))
        writer.writeheader()
        writer.writerows(csv_rows)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(dict(dam=dam, pot=pot_rows, load_before=load_before, load_after=load_after,
                       pot_version=ot.__version__, seconds=elapsed), f, indent=1, sort_keys=True)
    groups = [f"{w}x{w}, k = {k}" for w in (64, 256) for k in (2, 5)]
    series = ["dam (separable)", "dam (log backend)", "POT sinkhorn", "POT sinkhorn_log"]
    values = []
    for w in (64, 256):
        for k in (2, 5):
            row = []
            for source, key in (("dam", "separable"), ("dam", "log"), ("pot", "sinkhorn"), ("pot", "sinkhorn_log")):
                r = (dam_bar if source == "dam" else pot_bar).get((w, k, key))
                row.append(r["seconds"] if r else None)
            values.append(row)
    bar_chart("Grid barycenters, reg 0.004: median wall time", groups, series, values, "s",
              os.path.join(args.out, "barycenters.svg"))
    solvers = []
    for r in dam["iterations"]:
        if r["solver"] not in solvers:
            solvers.append(r["solver"])
    cases = []
    for r in dam["iterations"]:
        key = f"{r['grid']}, eps/D² {r['epsilonOverD2']:g}"
        if key not in cases:
            cases.append(key)
    it_values = [[None] * len(solvers) for _ in cases]
    for r in dam["iterations"]:
        key = f"{r['grid']}, eps/D² {r['epsilonOverD2']:g}"
        it_values[cases.index(key)][solvers.index(r["solver"])] = 1e3 * r["secondsPerIteration"]
    if cases:
        bar_chart("Time per Sinkhorn iteration", cases, solvers, it_values, "ms",
                  os.path.join(args.out, "iterations.svg"))
    print(markdown)


if __name__ == "__main__":
    main()
