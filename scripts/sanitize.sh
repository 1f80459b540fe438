#!/usr/bin/env bash
# Runs the test suite under the thread and address sanitizers: release builds (the numerical
# suites are 10-100x slower in debug, hours under a sanitizer) in their own build folders.
#
#   bash scripts/sanitize.sh [thread|address|both] [FILTER]
#
# Without FILTER every test runs (the whole suite); with FILTER only the matching suites, as for
# `swift test --filter`. scripts/test.sh runs the thread sanitizer on the subset in
# $DAM_SANITIZE_SUBSET. The CLI suites run the sanitized `dam` binary of the same build. Any
# sanitizer report fails the run (reports go to standard error). Environment:
#   DAM_SANITIZE_SCRATCH  build folder prefix (default .build/sanitize-), sanitizer name appended.
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-both}"
filter="${2:-}"
case "$which" in
  both) sanitizers=(thread address) ;;
  thread | address) sanitizers=("$which") ;;
  *) echo "usage: $0 [thread|address|both] [FILTER]" >&2; exit 2 ;;
esac
bash scripts/setup.sh
filter_arguments=()
[ -n "$filter" ] && filter_arguments=(--filter "$filter")
for sanitizer in "${sanitizers[@]}"; do
  scratch="${DAM_SANITIZE_SCRATCH:-.build/sanitize-}$sanitizer"
  echo "== $sanitizer sanitizer: building (release) into $scratch" >&2
  start=$(date +%s)
  nice swift build -c release --build-tests --sanitize="$sanitizer" --scratch-path "$scratch"
  echo "== $sanitizer sanitizer: built in $(( $(date +%s) - start )) s; testing (filter: ${filter:-everything})" >&2
  start=$(date +%s)
  # Leak detection stays off: the Swift runtime's one-time allocations (metadata, conformance
  # caches) are reported as leaks at exit; the fuzzers (scripts/fuzz.sh) run with it on.
  # scripts/sanitizers/tsan.supp: the place for TSan suppressions (none at present; the file
  # tells the history of the three it held).
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/scripts/sanitizers/tsan.supp" \
    ASAN_OPTIONS="detect_leaks=0:halt_on_error=1" \
    swift test -c release --skip-build --sanitize="$sanitizer" --scratch-path "$scratch" --disable-xctest \
    "${filter_arguments[@]}"
  echo "== $sanitizer sanitizer: tests passed in $(( $(date +%s) - start )) s" >&2
done
