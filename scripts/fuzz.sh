#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ and runs each one for a fixed budget.
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Targets: numpy-files (the .npy/.npz decoders), memory-files (the memory-file loader) and
# retrieval (arrays through validation into a small solve and one retrieval, every family).
# Default budget: 600 seconds per target. Each target is compiled with
# `swiftc -sanitize=fuzzer,address` together with the sources it exercises (retrieval: against
# the DAM and NumPyFiles modules built with the same flags, without the FFTW trait), so a trap, an
# out-of-bounds access or a leak-free crash all stop the run with a reproducer written to
# .build/fuzz/<target>/crash-*. The corpus grows in .build/fuzz/<target>/corpus (seeded from the
# test fixtures). Exit status: 0 when every target ran its budget without a finding.
set -euo pipefail
cd "$(dirname "$0")/.."

budget="${1:-600}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(numpy-files memory-files retrieval); fi

root="$PWD"
out="$root/.build/fuzz"
mkdir -p "$out"
zlib_flags=$(pkg-config --cflags-only-I zlib 2>/dev/null | sed 's/-I/-Xcc -I/g')

build_numpy_files() {
  local dir="$out/numpy-files"
  mkdir -p "$dir/corpus"
  swiftc -parse-as-library -O -sanitize=fuzzer,address -module-name FuzzNumPyFiles \
    -I Sources/CZlib $zlib_flags -lz \
    Sources/NumPyFiles/*.swift Fuzz/NumPyFiles/FuzzNumPyFiles.swift \
    -o "$dir/fuzzer" 2> >(grep -v "Cannot export local symbol" >&2)
  cp Tests/NumPyFilesTests/Fixtures/*.npy Tests/NumPyFilesTests/Fixtures/*.npz "$dir/corpus/"
}

build_memory_files() {
  local dir="$out/memory-files"
  mkdir -p "$dir/corpus"
  swiftc -parse-as-library -O -sanitize=fuzzer,address -module-name FuzzMemoryFiles -D FUZZING \
    -I Sources/CZlib $zlib_flags -lz \
    Sources/NumPyFiles/*.swift Sources/MemoryFiles/Format/*.swift Fuzz/MemoryFiles/FuzzMemoryFiles.swift \
    -o "$dir/fuzzer" 2> >(grep -v "Cannot export local symbol" >&2)
  cp Fuzz/MemoryFiles/Seeds/* "$dir/corpus/"
}

# The DAM module (without the FFTW trait, so only BLAS and LAPACK are linked) and NumPyFiles, as
# separate modules the target imports, with the C kernels compiled by the toolchain's clang.
build_retrieval() {
  local dir="$out/retrieval"
  local modules="$dir/modules"
  mkdir -p "$dir/corpus" "$modules/CDAMKernels"
  local blas_flags
  blas_flags=$(pkg-config --cflags-only-I openblas 2>/dev/null | sed 's/-I/-Xcc -I/g')
  local swift_flags=(-parse-as-library -O -whole-module-optimization -sanitize=fuzzer,address -swift-version 6
    -package-name swift_dense_associative_memory)
  printf 'module CDAMKernels {\n  header "%s"\n  export *\n}\n' \
    "$root/Sources/CDAMKernels/include/CDAMKernels.h" > "$modules/CDAMKernels/module.modulemap"
  clang -O2 -fsanitize=address,fuzzer-no-link -I Sources/CDAMKernels/include \
    -c Sources/CDAMKernels/kernels.c -o "$modules/kernels.o"
  find Sources/DAM -name '*.swift' -print0 | xargs -0 swiftc "${swift_flags[@]}" -module-name DAM \
    -I Sources/CLinearAlgebra $blas_flags -I "$modules/CDAMKernels" \
    -emit-module -emit-module-path "$modules/DAM.swiftmodule" -c -o "$modules/DAM.o" \
    2> >(grep -v "Cannot export local symbol" >&2)
  swiftc "${swift_flags[@]}" -module-name NumPyFiles -I Sources/CZlib $zlib_flags Sources/NumPyFiles/*.swift \
    -emit-module -emit-module-path "$modules/NumPyFiles.swiftmodule" -c -o "$modules/NumPyFiles.o" \
    2> >(grep -v "Cannot export local symbol" >&2)
  swiftc "${swift_flags[@]}" -module-name FuzzRetrieval -I "$modules" -I Sources/CLinearAlgebra $blas_flags \
    -I "$modules/CDAMKernels" -I Sources/CZlib $zlib_flags \
    Fuzz/Retrieval/FuzzRetrieval.swift "$modules/DAM.o" "$modules/NumPyFiles.o" "$modules/kernels.o" \
    -lopenblas -llapacke -lz -o "$dir/fuzzer" 2> >(grep -v "Cannot export local symbol" >&2)
  cp Fuzz/Retrieval/Seeds/* "$dir/corpus/"
}

status=0
for target in "${targets[@]}"; do
  echo "== $target: building" >&2
  case "$target" in
    numpy-files) build_numpy_files ;;
    memory-files) build_memory_files ;;
    retrieval) build_retrieval ;;
    *) echo "unknown target $target (known: numpy-files, memory-files, retrieval)" >&2; exit 2 ;;
  esac
  dir="$out/$target"
  echo "== $target: fuzzing for $budget s" >&2
  # OpenBLAS on one thread, as `dam` runs it: its worker threads spin waiting for each other, and
  # on a loaded machine a tiny product then takes seconds of wall time, a false timeout.
  if (cd "$dir" && OPENBLAS_NUM_THREADS=1 nice "$dir/fuzzer" corpus -max_total_time="$budget" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 > "$dir/log.txt" 2>&1); then
    echo "== $target: no finding; $(grep -E '^stat::number_of_executed_units' "$dir/log.txt" | awk '{print $2}') inputs run" >&2
  else
    echo "== $target: FINDING (see $dir/log.txt and $dir/crash-*)" >&2
    tail -40 "$dir/log.txt" >&2
    status=1
  fi
done
exit $status
