#!/usr/bin/env bash
# Runs test suites under the thread and address sanitizers (debug builds, separate build folders).
#
#   bash scripts/sanitize.sh [thread|address|both] [FILTER]
#
# Sanitized debug builds are 10-100x slower on the numerical suites, so by default only the fast
# suites that exercise concurrency, file handling and input validation run (FILTER below; pass
# '.' for everything). The CLI suites run the sanitized `dam` binary of the same build.
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-both}"
filter="${2:-ConcurrencyTests|MemoryFileRoundTripTests|MemoryFileRejectionTests|BadInputTests|BadInputCommandTests|MemoryCommandTests|RobustnessTests|NPZTests|SeparationMapPropertyTests|DivergencePropertyTests}"
case "$which" in
  both) sanitizers=(thread address) ;;
  thread | address) sanitizers=("$which") ;;
  *) echo "usage: $0 [thread|address|both] [FILTER]" >&2; exit 2 ;;
esac
bash scripts/setup.sh
for sanitizer in "${sanitizers[@]}"; do
  scratch=".build/sanitize-$sanitizer"
  echo "== $sanitizer sanitizer: building into $scratch" >&2
  start=$(date +%s)
  nice swift build --build-tests --sanitize="$sanitizer" --scratch-path "$scratch"
  echo "== $sanitizer sanitizer: built in $(( $(date +%s) - start )) s; testing (filter: $filter)" >&2
  start=$(date +%s)
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ASAN_OPTIONS="detect_leaks=0:halt_on_error=1" \
    swift test --skip-build --sanitize="$sanitizer" --scratch-path "$scratch" --disable-xctest --filter "$filter"
  echo "== $sanitizer sanitizer: tests passed in $(( $(date +%s) - start )) s" >&2
done
