#!/usr/bin/env bash
# Throughput of the solvers' vectorised exp against the machine's: the C library's scalar exp and
# glibc's vector exp (libmvec, AVX2 and AVX-512 variants where the CPU has them), timed on one
# thread in the same script as `dam bench exp`. Writes a Markdown table to stdout.
# Usage: bash scripts/bench/exp.sh [--count N]
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh
swift build -c release --product dam >&2
dam="$(swift build -c release --show-bin-path)/dam"
count=16384
if [[ "${1:-}" == "--count" ]]; then count="$2"; fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/libmvec.c" <<'C'
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double thread_time(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}
/* Compiled with -ffast-math and a vector target, this loop calls libmvec's _ZGV*_exp. */
__attribute__((noinline)) static void vexp(double *restrict y, const double *restrict x, long n) {
#pragma omp simd
  for (long i = 0; i < n; i++) y[i] = exp(x[i]);
}
static int compare(const void *a, const void *b) {
  double d = *(const double *)a - *(const double *)b;
  return (d > 0) - (d < 0);
}
int main(int argc, char **argv) {
  long n = atol(argv[1]);
  double *x = malloc(8 * n), *y = malloc(8 * n), samples[5], sink = 0;
  for (long i = 0; i < n; i++) x[i] = -50.0 * i / n;
  vexp(y, x, n);
  for (int r = 0; r < 5; r++) {
    long calls = 0;
    double start = thread_time(), elapsed = 0;
    while (elapsed < 0.2) { vexp(y, x, n); sink += y[n / 3]; calls++; elapsed = thread_time() - start; }
    samples[r] = elapsed / ((double)calls * n) * 1e9;
  }
  qsort(samples, 5, sizeof(double), compare);
  printf("%.4f %g\n", samples[2], sink > 0 ? 0.0 : 1.0);
  return 0;
}
C
compiler="$(command -v gcc || command -v clang)"
flags=(-O3 -ffast-math -fopenmp-simd)
rows=()
for variant in avx2 avx512f; do
  grep -qw "$variant" /proc/cpuinfo || continue
  if [[ "$variant" == avx2 ]]; then extra=(-mavx2 -mfma); label="glibc libmvec exp, AVX2 (4 lanes)"; fi
  if [[ "$variant" == avx512f ]]; then extra=(-mavx512f -mprefer-vector-width=512); label="glibc libmvec exp, AVX-512 (8 lanes)"; fi
  if "$compiler" "${flags[@]}" "${extra[@]}" "$work/libmvec.c" -o "$work/$variant" -lm 2>/dev/null \
    && nm "$work/$variant" | grep -q "_ZGV.*_exp"; then
    rows+=("$label|$("$work/$variant" "$count" | cut -d' ' -f1)")
  fi
done

json="$("$dam" bench exp --count "$count" --json)"
python3 - "$json" "${rows[@]}" <<'PY'
import json, sys
dam = json.loads(sys.argv[1])
rows = [(r["variant"], r["nanosecondsPerValue"]) for r in dam]
rows += [tuple(a.split("|")) for a in sys.argv[2:]]
rows = [(name, float(ns)) for name, ns in rows]
scalar = rows[0][1]
machine = min((ns for name, ns in rows if "libmvec" in name), default=None)
print("| variant | ns per value | values per second (1 thread) | vs C library exp | vs fastest libmvec exp |")
print("| --- | ---: | ---: | ---: | ---: |")
for name, ns in rows:
    vs_machine = f"{machine / ns:.2f}x" if machine else "n/a"
    print(f"| {name} | {ns:.3f} | {1e9 / ns:.3g} | {scalar / ns:.2f}x | {vs_machine} |")
PY
