#!/usr/bin/env bash
# Runs WRITERS `dam memory append` processes on one memory file at once, ROUNDS times, and checks
# that every append exited 0 and landed exactly once; then WRITERS `dam memory create` processes
# (without --force) on one new file at once, ROUNDS times, and checks that exactly one succeeded,
# the others exited 1 saying the file exists, and the file is the winner's, whole.
#
#   bash scripts/reliability/concurrent-writers.sh [ROUNDS] [WRITERS]
#
# ROUNDS defaults to 20, WRITERS to 8 (the test ConcurrentWritersTests runs the same numbers; this
# script is for longer runs). Needs a release build (`swift build -c release`) and perl. Prints a
# summary line per part; exits non-zero if any round failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-20}"
writers="${2:-8}"
dam="${DAM:-$PWD/.build/release/dam}"  # DAM=path/to/dam for another build folder
[ -x "$dam" ] || { echo "build first: swift build -c release" >&2; exit 2; }
work=$(mktemp -d /tmp/concurrent-writers.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

# A float64 .npy of shape (1, 3) holding the given three numbers.
make_row() {  # path a b c
  local header="{'descr': '<f8', 'fortran_order': False, 'shape': (1, 3), }"
  local total=$((10 + ${#header} + 1))
  local pad=$(( (64 - total % 64) % 64 ))
  local length=$(( ${#header} + pad + 1 ))
  {
    printf '\x93NUMPY\x01\x00'
    printf "\\x$(printf %02x $((length % 256)))\\x$(printf %02x $((length / 256)))"
    printf '%s%*s\n' "$header" "$pad" ""
    perl -e "print pack('d<*', $2, $3, $4)"
  } > "$1"
}

# The rows of a vector memory file's 'patterns' array, one "a,b,c" line each (memory files store
# their members uncompressed; the first 'patterns.npy' in the file is the member's local header).
rows() {  # path
  perl -e '
    local $/; open(my $f, "<", $ARGV[0]) or die; binmode $f; my $d = <$f>;
    my $s = index($d, "\x93NUMPY", index($d, "patterns.npy"));
    my $hl = unpack("v", substr($d, $s + 8, 2)); my $h = substr($d, $s + 10, $hl);
    my ($n, $c) = $h =~ /shape.: \((\d+), (\d+)\)/ or die "no shape";
    my @v = unpack("d<*", substr($d, $s + 10 + $hl, $n * $c * 8));
    print join(",", @v[$_ * $c .. $_ * $c + $c - 1]), "\n" for 0 .. $n - 1;' "$1"
}

failures=0

# Appends.
make_row base.npy -1 -1 -1
"$dam" memory create m.npz --patterns base.npy > /dev/null
start=$(date +%s%N)
appended=0
for round in $(seq 0 $((rounds - 1))); do
  pids=()
  for i in $(seq 0 $((writers - 1))); do
    make_row "p$round-$i.npy" "$round" "$i" 0.25
  done
  for i in $(seq 0 $((writers - 1))); do
    "$dam" memory append m.npz --patterns "p$round-$i.npy" > /dev/null 2> "append$i.err" &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    if wait "${pids[$i]}"; then appended=$((appended + 1)); else
      echo "round $round: append $i failed: $(cat "append$i.err")"
      failures=$((failures + 1))
    fi
  done
  rows m.npz > rows.txt
  for i in $(seq 0 $((writers - 1))); do
    found=$(grep -c "^$round,$i,0.25\$" rows.txt || true)
    if [ "$found" -ne 1 ]; then
      echo "round $round: writer $i's pattern found $found times"
      failures=$((failures + 1))
    fi
  done
done
append_ms=$(( ($(date +%s%N) - start) / 1000000 ))
count=$(rows m.npz | wc -l)
expected=$((1 + rounds * writers))
if ! "$dam" memory verify m.npz > /dev/null 2> verify.err; then
  echo "appends: the file fails to verify: $(cat verify.err)"
  failures=$((failures + 1))
fi
[ "$count" -eq "$expected" ] || { echo "appends: $count patterns, expected $expected"; failures=$((failures + 1)); }
leftovers=$(ls -A | grep -c '^\.' || true)
[ "$leftovers" -eq 0 ] || { echo "appends: $leftovers hidden file(s) left: $(ls -A | grep '^\.')"; failures=$((failures + 1)); }
echo "appends: $rounds rounds of $writers at once; $appended of $((rounds * writers)) exited 0; $count patterns (expected $expected); ${append_ms} ms"

# Creates without --force.
for i in $(seq 0 $((writers - 1))); do make_row "c$i.npy" 7 "$i" 0.5; done
start=$(date +%s%N)
single=0
for round in $(seq 0 $((rounds - 1))); do
  pids=()
  for i in $(seq 0 $((writers - 1))); do
    "$dam" memory create "c$round.npz" --patterns "c$i.npy" > /dev/null 2> "create$i.err" &
    pids+=($!)
  done
  winners=()
  for i in "${!pids[@]}"; do
    if wait "${pids[$i]}"; then winners+=("$i"); else
      status=$?
      if [ "$status" -ne 1 ] || ! grep -q "c$round.npz: exists; use --force" "create$i.err"; then
        echo "round $round: creator $i: status $status, $(cat "create$i.err")"
        failures=$((failures + 1))
      fi
    fi
  done
  if [ "${#winners[@]}" -ne 1 ]; then
    echo "round $round: ${#winners[@]} creators succeeded"
    failures=$((failures + 1))
    continue
  fi
  if [ "$(rows "c$round.npz")" != "7,${winners[0]},0.5" ] || ! "$dam" memory verify "c$round.npz" > /dev/null; then
    echo "round $round: the file is not creator ${winners[0]}'s: $(rows "c$round.npz" | tr '\n' ' ')"
    failures=$((failures + 1))
  else
    single=$((single + 1))
  fi
done
create_ms=$(( ($(date +%s%N) - start) / 1000000 ))
leftovers=$(ls -A | grep -c '^\.' || true)
[ "$leftovers" -eq 0 ] || { echo "creates: $leftovers hidden file(s) left"; failures=$((failures + 1)); }
echo "creates: $rounds rounds of $writers at once; exactly one winner and its file in $single of $rounds; ${create_ms} ms"
echo "failures: $failures"
[ "$failures" -eq 0 ]
