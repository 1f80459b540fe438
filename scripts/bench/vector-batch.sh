#!/usr/bin/env bash
# Batched vector retrieval: `dam retrieve` as a whole process against the PyTorch loop a modern
# Hopfield user writes (S <- softmax(beta S X^T) X over the whole batch until every row has
# converged), on identical inputs, in the same run, on the same machine.
#
# Workload: N stored vectors in D = 256 (rows of a standard normal matrix, normalised to norm 1),
# B queries = the first B patterns plus N(0, 0.02^2) noise, dot-product energy, softmax, beta 32,
# iterated to a fixed point under dam's default stopping rule (per query: |energy change| <=
# 1e-12 max(1, |E|) and largest coordinate change <= 1e-9, or a step that leaves the state exactly
# unchanged; at most 100 steps). Each seed draws new data with numpy.random.default_rng(seed). All
# float64; $THREADS threads on each side: torch.set_num_threads, and dam's default, one engine
# thread per core with OpenBLAS single-threaded inside them (OPENBLAS_NUM_THREADS is removed from
# dam's environment; its other OpenBLAS variables, such as OPENBLAS_CORETYPE, pass through). The
# report says so when $THREADS differs from the number of cores.
#
# Both sides read the same memory.npy (N, D) and queries.npy (B, D), written by NumPy, and both are
# timed including reading them and writing the final states (.npy): dam as a whole process (wall
# time of subprocess.run, process start included), torch from torch.from_numpy(np.load(...)) to
# np.save (the interpreter's start and `import torch` are not included; torch is warmed up once).
#
# Writes a Markdown report to Docs/bench/vector-batch.md (or $OUT) and prints it; text after the
# line `<!-- notes -->` in the existing file is kept.
#
# Usage (from anywhere): bash scripts/bench/vector-batch.sh
#   DAM    the dam binary (default: built here with the Swift runtime linked statically, into
#          .build-static, as a command-line tool is shipped and as scripts/bench/sinkhorn.sh does)
#   SIZES  space-separated NxB workloads (default "20000x200 100000x1000")
#   SEEDS  space-separated seeds (default "0 1 2 3 4")
#   OUT    the report (default Docs/bench/vector-batch.md)
#   THREADS (default 2), DIMENSION (256), BETA (32), NOISE (0.02), MAX_STEPS (100),
#   TOLERANCE (1e-9), ENERGY_TOLERANCE (1e-12), REPEATS (3: runs of each side per seed, alternating
#   dam and torch on the same files; each side's median run is reported)
# Installs numpy and torch with pip when they are missing (torch from PyPI: a large download).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${DAM:-}" ]; then
  swift build -c release --product dam --static-swift-stdlib --scratch-path .build-static >&2
  DAM=.build-static/release/dam
  export DAM_LINKED_STATICALLY=1
fi
SIZES="${SIZES:-20000x200 100000x1000}"
SEEDS="${SEEDS:-0 1 2 3 4}"
OUT="${OUT:-Docs/bench/vector-batch.md}"
THREADS="${THREADS:-2}"
DIMENSION="${DIMENSION:-256}"
BETA="${BETA:-32}"
NOISE="${NOISE:-0.02}"
MAX_STEPS="${MAX_STEPS:-100}"
TOLERANCE="${TOLERANCE:-1e-9}"
ENERGY_TOLERANCE="${ENERGY_TOLERANCE:-1e-12}"
REPEATS="${REPEATS:-3}"

python3 -c "import numpy" 2>/dev/null || python3 -m pip install --quiet numpy
python3 -c "import torch" 2>/dev/null || python3 -m pip install --quiet torch
[ -x "$DAM" ] || { echo "no dam binary at $DAM" >&2; exit 1; }
# dam runs in each workload's temporary folder: an absolute path.
DAM="$(cd "$(dirname "$DAM")" && pwd)/$(basename "$DAM")"
mkdir -p "$(dirname "$OUT")"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# torch's threads from torch.set_num_threads (and OMP_NUM_THREADS); dam's are its cores.
export OMP_NUM_THREADS="$THREADS" MKL_NUM_THREADS="$THREADS"

python3 - "$DAM" "$SIZES" "$SEEDS" "$OUT" "$THREADS" "$DIMENSION" "$BETA" "$NOISE" "$MAX_STEPS" \
  "$TOLERANCE" "$ENERGY_TOLERANCE" "$tmp" "$REPEATS" <<'PY'
import datetime, os, platform, re, resource, statistics, subprocess, sys, time
import numpy as np
import torch

dam, sizes, seeds, out, threads, D, beta, noise, max_steps, tol, etol, tmp, repeats = sys.argv[1:14]
repeats = int(repeats)
threads, D, max_steps = int(threads), int(D), int(max_steps)
beta, noise, tol, etol = float(beta), float(noise), float(tol), float(etol)
sizes = [tuple(int(v) for v in s.lower().split("x")) for s in sizes.split()]
seeds = [int(s) for s in seeds.split()]
torch.set_num_threads(threads)
torch.set_default_dtype(torch.float64)

def load_average():
    return " ".join(open("/proc/loadavg").read().split()[:3])

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
           "unknown CPU")
load_start = load_average()
dam_env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
openblas_env = {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_") and k != "OPENBLAS_NUM_THREADS"}
dam_version = subprocess.run([dam, "--version"], capture_output=True, text=True).stdout.strip() or "?"
t = time.perf_counter()
for _ in range(5):
    subprocess.run([dam, "--version"], capture_output=True, env=dam_env)
dam_start = (time.perf_counter() - t) / 5

# Warm torch up once (thread pool, BLAS initialisation), as a session that already ran torch would be.
_w = torch.randn(64, 64); (_w @ _w).sum().item(); torch.softmax(_w, 1); torch.logsumexp(_w, 1)

def make_data(N, B, seed, directory):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    source = np.arange(B)  # the first B patterns (i.i.d. rows, so as random as any B)
    Q = X[source] + noise * rng.standard_normal((B, D))
    np.save(os.path.join(directory, "memory.npy"), X)
    np.save(os.path.join(directory, "queries.npy"), Q)
    return X, source

def run_dam(directory):
    command = [dam, "retrieve", "--memory", "memory.npy", "--query", "queries.npy", "--beta", repr(beta),
               "--divergence", "dot-product", "--separation", "softmax", "--max-steps", str(max_steps),
               "--tolerance", repr(tol), "--energy-tolerance", repr(etol), "--output", "R.npy"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    result = subprocess.run(command, cwd=directory, env=dam_env, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"dam failed ({result.returncode}): {result.stderr.strip()}")
    cpu_seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # Steps and stop reasons from dam's table (| query | pattern | steps | stopped | ...).
    steps, stopped, header = [], {}, None
    for line in result.stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            if "steps" in cells and "query" in cells:
                header = cells
            continue
        if len(cells) == len(header) and cells[header.index("steps")].isdigit():
            steps.append(int(cells[header.index("steps")]))
            if "stopped" in header:
                reason = cells[header.index("stopped")]
                stopped[reason] = stopped.get(reason, 0) + 1
    return seconds, cpu_seconds, np.load(os.path.join(directory, "R.npy")), steps, stopped, " ".join(command)

def run_torch(directory):
    """The loop a modern Hopfield user writes: the whole batch every iteration until every row passes
    dam's per-row test (no rows are dropped when they converge)."""
    c = time.process_time()
    t = time.perf_counter()
    X = torch.from_numpy(np.load(os.path.join(directory, "memory.npy")))
    S = torch.from_numpy(np.load(os.path.join(directory, "queries.npy")))
    scores = beta * (S @ X.T)
    E = 0.5 * (S * S).sum(1) - torch.logsumexp(scores, 1) / beta
    first = torch.full((S.shape[0],), -1, dtype=torch.long)  # first iteration at which a row passed
    iterations = 0
    while iterations < max_steps:
        S_new = torch.softmax(scores, 1) @ X
        iterations += 1
        scores = beta * (S_new @ X.T)
        E_new = 0.5 * (S_new * S_new).sum(1) - torch.logsumexp(scores, 1) / beta
        change = (S_new - S).abs().amax(1)
        done = ((change <= tol) & ((E_new - E).abs() <= etol * E_new.abs().clamp(min=1.0))) | (change == 0)
        first[(first < 0) & done] = iterations
        S, E = S_new, E_new
        if bool(done.all()):
            break
    np.save(os.path.join(directory, "R_torch.npy"), S.numpy())
    seconds = time.perf_counter() - t
    cpu_seconds = time.process_time() - c
    return seconds, cpu_seconds, S.numpy().copy(), iterations, first.numpy()

def recall(X, R, source):
    """Fraction of queries whose final state is nearest (Euclidean) to the pattern it was made from."""
    norms = (X * X).sum(1)
    nearest = np.empty(len(R), dtype=np.int64)
    for s in range(0, len(R), 256):
        block = R[s:s + 256]
        nearest[s:s + 256] = np.argmin(norms[:, None] - 2.0 * (X @ block.T), axis=0)
    return float(np.mean(nearest == source))

rows, summary = [], []
command_shown = None
for N, B in sizes:
    ratios, dam_times, torch_times = [], [], []
    for seed in seeds:
        directory = os.path.join(tmp, f"{N}x{B}-{seed}")
        os.makedirs(directory)
        X, source = make_data(N, B, seed, directory)
        # REPEATS runs of each side, alternating, on the same files; the median run of each side.
        dam_runs, torch_runs = [], []
        for _ in range(repeats):
            dam_runs.append(run_dam(directory))
            torch_runs.append(run_torch(directory))
        dam_runs.sort(key=lambda run: run[0])
        torch_runs.sort(key=lambda run: run[0])
        dam_s, dam_cpu, R_dam, steps, stopped, command_shown = dam_runs[len(dam_runs) // 2]
        torch_s, torch_cpu, R_torch, iterations, first = torch_runs[len(torch_runs) // 2]
        del dam_runs, torch_runs
        ratio = torch_s / dam_s
        ratios.append(ratio); dam_times.append(dam_s); torch_times.append(torch_s)
        unconverged = int((first < 0).sum())
        dam_steps = (f"max {max(steps)}, mean {np.mean(steps):.1f}" if steps else "n/a")
        dam_stops = ", ".join(f"{k} {v}" for k, v in sorted(stopped.items())) or "n/a"
        passed = first[first > 0]
        torch_rows = f"{iterations} (rows passed at " + \
                     (f"mean {passed.mean():.1f}, max {passed.max()}" if len(passed) else "none") + \
                     (f"; {unconverged} never" if unconverged else "") + ")"
        row = (f"| {N} | {B} | {seed} | {dam_s:.3f} | {dam_cpu:.2f} | {torch_s:.3f} | {torch_cpu:.2f} | "
               f"{ratio:.2f} | {recall(X, R_dam, source):.3f} | {recall(X, R_torch, source):.3f} | "
               f"{np.abs(R_dam - R_torch).max():.2e} | {dam_steps} ({dam_stops}) | {torch_rows} |")
        rows.append(row)
        print(row, file=sys.stderr, flush=True)
        del X, R_dam, R_torch
        for name in ("memory.npy", "queries.npy", "R.npy", "R_torch.npy"):
            os.remove(os.path.join(directory, name))
    summary.append(f"| {N} | {B} | {len(seeds)} | {statistics.median(dam_times):.3f} | "
                   f"{statistics.median(torch_times):.3f} | {statistics.median(ratios):.2f} | "
                   f"{min(ratios):.2f} to {max(ratios):.2f} |")
load_end = load_average()

notes = ""
if os.path.exists(out):
    text = open(out).read()
    if "<!-- notes -->" in text:
        notes = text[text.index("<!-- notes -->"):]
blas = "MKL" if torch.backends.mkl.is_available() else "no MKL"
lines = [
    "# Benchmark: batched vector retrieval, dam against the PyTorch loop",
    "",
    f"Command: `bash scripts/bench/vector-batch.sh` (SIZES=\"{' '.join(f'{n}x{b}' for n, b in sizes)}\", "
    f"SEEDS=\"{' '.join(map(str, seeds))}\"), run on {datetime.datetime.now().isoformat(timespec='seconds')} on "
    f"{cpu}, {os.cpu_count()} logical cores, {platform.platform()}. Load average (1, 5, 15 min) at the start: "
    f"{load_start}; at the end: {load_end} (above {os.cpu_count()}, other jobs shared the machine).",
    "",
    f"Versions: dam {dam_version} (`{dam}`), NumPy {np.__version__}, PyTorch {torch.__version__} ({blas}), "
    f"Python {platform.python_version()}. Threads: torch.set_num_threads({threads}) "
    f"(torch reports {torch.get_num_threads()}); dam with its default threads, one engine thread per core "
    f"({os.cpu_count()}) and OpenBLAS on one thread inside them"
    + ("" if os.cpu_count() == threads else f" (NOTE: not the {threads} threads torch has)")
    + (", " + ", ".join(f"{k}={v}" for k, v in sorted(openblas_env.items())) + " (from the environment)"
       if openblas_env else ", no other OPENBLAS_* variable set") + ".",
    "",
    f"Workload: N stored vectors in D = {D} (standard normal rows normalised to norm 1), B queries = the first B "
    f"patterns plus N(0, {noise}^2) noise, drawn by numpy.random.default_rng(seed); dot-product energy "
    f"E = 1/2 ||x||^2 - (1/beta) logsumexp(beta X x), softmax, beta = {beta:g}, float64. Stopping, per query on "
    f"both sides: largest coordinate change <= {tol:g} and |energy change| <= {etol:g} max(1, |E|), or a step "
    f"that leaves the state exactly unchanged; at most {max_steps} steps.",
    "",
    f"dam: `{command_shown}` as a whole process"
    + (" (built with `--static-swift-stdlib`, as a command-line tool is shipped)"
       if os.environ.get("DAM_LINKED_STATICALLY") == "1" else "")
    + " (wall time around subprocess.run; process start included, "
    f"about {dam_start * 1000:.1f} ms for `dam --version`), CPU time of the child process. "
    "torch: in the benchmark's process after a warm-up, timed from torch.from_numpy(np.load(...)) of the same "
    ".npy files to np.save of the final states; the simple loop `S = softmax(beta S X^T) X` over the whole batch "
    "every iteration (converged rows are NOT dropped, so they keep iterating until the last row passes), the "
    "energy from the same scores; interpreter start and `import torch` are not timed. "
    f"Per seed, {repeats} runs of each side, alternating dam and torch on the same files; the tables give each "
    "side's median run.",
    "",
    "Ratio = torch seconds / dam seconds (> 1: dam faster). Recall: the query's final state is nearest "
    "(Euclidean) to the pattern it was made from. max |dam - torch|: largest absolute difference between the "
    "final states. dam steps: per query (stop reasons); torch iterations: whole-batch iterations (and the "
    "iteration at which each row first passed the test).",
    "",
    "| N | B | seed | dam s | dam CPU s | torch s | torch CPU s | torch/dam | dam recall | torch recall | "
    "max abs dam - torch | dam steps | torch iterations |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    *rows,
    "",
    "| N | B | seeds | median dam s | median torch s | median torch/dam | range |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    *summary,
    "",
]
open(out, "w").write("\n".join(lines) + ("\n" + notes if notes else ""))
print("\n".join(lines))
PY
