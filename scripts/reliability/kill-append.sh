#!/usr/bin/env bash
# Kills `dam memory append` with SIGKILL at random moments and checks, after every kill, that the
# memory file still verifies and still begins with the patterns it held before.
#
#   bash scripts/reliability/kill-append.sh [TRIALS] [ROWS]
#
# TRIALS (default 60) kills; ROWS (default 2000) vectors of dimension 1000 in the stored memory
# and in each append (16 MB each), so that an append takes long enough for kills to land while it
# reads, encodes, writes or syncs. Odd trials kill at a time uniform over [0.4, 1.3] x the measured
# duration of an uninterrupted append; even trials wait until the temporary file appears and kill
# 0 to duration/10 later, so that half the kills target the write, sync and rename. Needs a release build (`swift build -c release`) and perl (for test data).
# Temporary files of killed appends are left in place; one uninterrupted append at the end must
# remove them all (and a lock file left by a writer killed holding the lock).
# Prints a summary line per outcome; exits non-zero if any trial leaves a file that fails to verify
# or lost patterns, or if the final append leaves a temporary or lock file.
set -euo pipefail
cd "$(dirname "$0")/../.."
trials="${1:-60}"
rows="${2:-2000}"
columns=1000
dam="${DAM:-$PWD/.build/release/dam}"  # DAM=path/to/dam for another build folder
[ -x "$dam" ] || { echo "build first: swift build -c release" >&2; exit 2; }
work=$(mktemp -d /tmp/kill-append.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

# A float64 .npy of shape (rows, columns) with values from perl's rand (seeded).
make_npy() {  # path seed
  local header="{'descr': '<f8', 'fortran_order': False, 'shape': ($rows, $columns), }"
  local total=$((10 + ${#header} + 1))
  local pad=$(( (64 - total % 64) % 64 ))
  local length=$(( ${#header} + pad + 1 ))
  {
    printf '\x93NUMPY\x01\x00'
    printf "\\x$(printf %02x $((length % 256)))\\x$(printf %02x $((length / 256)))"
    printf '%s%*s\n' "$header" "$pad" ""
    perl -e "srand($2); my \$n = $rows * $columns; while (\$n > 0) { my \$k = \$n < 65536 ? \$n : 65536; print pack('d<*', map { rand() * 2 - 1 } 1..\$k); \$n -= \$k; }"
  } > "$1"
}

make_npy base.npy 1
make_npy more.npy 2
"$dam" memory create base.npz --patterns base.npy > /dev/null
base_count=$rows

# Duration of an uninterrupted append, in milliseconds (median of three).
durations=()
for _ in 1 2 3; do
  cp base.npz m.npz
  start=$(date +%s%N)
  "$dam" memory append m.npz --patterns more.npy > /dev/null
  durations+=($(( ($(date +%s%N) - start) / 1000000 )))
done
duration=$(printf '%s\n' "${durations[@]}" | sort -n | sed -n 2p)
# Reading, checking and encoding come first; the write, fsync and rename come last.
low=$(( duration * 4 / 10 ))
window=$(( duration * 9 / 10 ))
write_window=$(( duration / 10 ))
echo "append of $rows x $columns onto $rows x $columns takes ${duration} ms (runs: ${durations[*]}); odd trials kill uniformly in [${low}, $((low + window))] ms, even trials 0-${write_window} ms after the temporary file appears"

RANDOM=42
intact=0 completed=0 stale=0 failures=0
cp base.npz m.npz
for trial in $(seq 1 "$trials"); do
  "$dam" memory append m.npz --patterns more.npy > /dev/null 2>&1 &
  pid=$!
  if [ $((trial % 2)) -eq 1 ]; then
    # Odd trials: a random moment of the whole append.
    delay_ms=$(( low + (RANDOM * 32768 + RANDOM) % (window + 1) ))
    when="at ${delay_ms} ms"
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  else
    # Even trials: wait for the temporary file to appear (the write has begun), then a random
    # 0-${write_window} ms more, so that kills land while the bytes are written, synced or renamed.
    while kill -0 "$pid" 2> /dev/null && ! ls -A | grep -q "^\.m\.npz\.tmp-$pid-"; do sleep 0.002; done
    delay_ms=$(( RANDOM % (write_window + 1) ))
    when="${delay_ms} ms into the write"
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  fi
  kill -KILL "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
  leftovers=$(ls -A | grep -c "^\.m\.npz\.tmp-$pid-" || true)
  if ! "$dam" memory verify m.npz --starts-with base.npz --json > verify.json 2> verify.err; then
    echo "trial $trial (kill $when): FAILED: $(cat verify.err)"
    failures=$((failures + 1))
    cp base.npz m.npz
    continue
  fi
  count=$(sed -E 's/.*"count":([0-9]+).*/\1/' verify.json)
  if [ "$count" -eq "$base_count" ]; then
    intact=$((intact + 1))
  elif [ "$count" -eq $((base_count + rows)) ]; then
    completed=$((completed + 1))
    cp base.npz m.npz
  else
    echo "trial $trial (kill $when): FAILED: $count patterns, expected $base_count or $((base_count + rows))"
    failures=$((failures + 1))
    cp base.npz m.npz
  fi
  [ -n "${VERBOSE:-}" ] && echo "trial $trial: kill $when, $count patterns, $leftovers temporary file(s)"
  if [ "$leftovers" -gt 0 ]; then stale=$((stale + 1)); fi
done
# The next successful write removes what killed writers left.
before=$(ls -A | grep -c '^\.m\.npz\.' || true)
"$dam" memory append m.npz --patterns more.npy > /dev/null
after=$(ls -A | grep -c '^\.m\.npz\.' || true)
if [ "$after" -ne 0 ]; then
  echo "the final append left $after temporary or lock file(s): $(ls -A | grep '^\.m\.npz\.' | tr '\n' ' ')"
  failures=$((failures + 1))
fi
echo "trials: $trials; previous file intact: $intact; append had completed: $completed; killed mid-write (stale temporary file left): $stale; failures: $failures"
echo "temporary or lock files before the final append: $before; after it: $after"
[ "$failures" -eq 0 ]
