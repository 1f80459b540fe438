#!/usr/bin/env bash
# The test suite: installs missing system libraries, builds everything in release mode (numerical
# tests are 10-100x slower in debug) and runs every test with Swift Testing.
#
# Then, when no arguments are given (arguments go to `swift test`, e.g. --filter), the suites
# that exercise concurrency, memory files and bad input run again under the thread sanitizer
# (a second, sanitized release build in .build/sanitize-thread; see scripts/sanitize.sh):
#   ConcurrencyTests      many threads retrieving from one shared engine, against serial results;
#   MemoryFile*, MemoryCommandTests
#                         atomic writes, appends killed with SIGKILL, checksums, the CLI;
#   BadInput*             every bad-input row, library and CLI (the sanitized `dam` runs them);
#   EngineSeamTests       the block defaults on several threads, a matrix memory's rows made on
#                         first use by several threads at once.
# These are the suites where a data race or a memory error would hide; the numerical suites are
# 5-15x slower under the sanitizer and run under it with `bash scripts/sanitize.sh thread`.
# Measured cost (Docs/reliability.md, "In CI"): the sanitized build is about as long as the
# normal release build (820 s against 762 s, both at once on 2 loaded cores); the subset's tests
# took 17.5 s. On a quiet 2-core machine that keeps CI (3 min before) well under 25 minutes.
# DAM_SKIP_SANITIZER=1 skips this stage.
#
# Also only without arguments, before the sanitizer:
#   - the DocC documentation (scripts/docs.sh): the DAM, NumPyFiles, MemoryFiles and DAMDatasets
#     catalogs with the guides' articles, failing on any DocC warning or uncurated public symbol. It needs no
#     network (swift-docc-plugin is resolved with the package). It compiles the four modules
#     again with symbol-graph output: 2.4 min at load 7-10 on the 2 shared cores (7 Dec 2026).
#     DAM_SKIP_DOCS=1 skips it.
#   - the package without its FFTW trait (Docs/grids.md, "Building without FFTW"): a release build
#     in .build-nofftw, checked to link no FFTW, where the grid suites run (the FFT-only tests skip
#     themselves; GridFFTTraitTests and GridCommandTests check that .fft and --backend fft are
#     refused with the clear error). DAM_SKIP_NOFFTW=1 skips it.
#   - Examples/Client, a package that depends on this one as the README shows, built (debug: it
#     checks resolution and linking, not speed) and run.
# Measured on the 2 shared cores, from empty build folders at load 3.5-7: the trait-off build
# 8.6 min (the main release build took 6.7 min at about the same load), its grid suites 2.9 min
# (1.7 min at load 3-5), the client 1 min: 12.4 minutes added. The build is most of it and cannot
# share the main build's products (the trait's condition changes every module's flags); a debug
# build was not cheaper (7 min at load 6-10) and runs the grid suites about 10 times slower.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release
swift build -c release --build-tests
if [ "$#" -gt 0 ] || [ "${DAM_SKIP_SANITIZER:-0}" = 1 ]; then
  exec swift test -c release --skip-build --disable-xctest "$@"
fi
swift test -c release --skip-build --disable-xctest
if [ "${DAM_SKIP_DOCS:-0}" != 1 ]; then
  bash scripts/docs.sh
fi
if [ "${DAM_SKIP_NOFFTW:-0}" != 1 ]; then
  nofftw=(-c release --disable-default-traits --build-path .build-nofftw)
  swift build "${nofftw[@]}" --build-tests
  if ldd .build-nofftw/release/dam | grep -q fftw; then
    echo "test: dam built without the FFTW trait still links FFTW" >&2
    exit 1
  fi
  swift test "${nofftw[@]}" --skip-build --disable-xctest \
    --filter 'DAMTests\.Grid|DAMToolTests\.GridCommandTests|DocsSamplesTests\.GridSamples|largeEpsilonGrid'
fi
swift build --package-path Examples/Client --scratch-path .build-client
.build-client/debug/Client
bash scripts/sanitize.sh thread "ConcurrencyTests|MemoryFile|MemoryCommandTests|BadInput|EngineSeamTests"
